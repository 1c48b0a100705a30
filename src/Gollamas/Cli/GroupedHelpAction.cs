using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Gollamas.Config;
using Gollamas.Hosting;

namespace Gollamas.Cli;

/// <summary>
/// What <c>--help</c> does: for the commands that take the settings (the root command and
/// <c>check</c>) the grouped help of <see cref="HelpText"/>, for any other System.CommandLine's own.
/// </summary>
/// <param name="rootDescription">The root command's description, without its example.</param>
/// <param name="rootExample">The root command's example command line.</param>
internal sealed class GroupedHelpAction(string rootDescription, string rootExample) : SynchronousCommandLineAction
{
    /// <summary>The columns to lay the help out in; when null, the terminal's, or 80 when the output is not a terminal.</summary>
    public int? MaxWidth { get; set; }

    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var command = parseResult.CommandResult.Command;
        var width = MaxWidth ?? TerminalWidth();
        if (!command.Options.Any(static o => o.Name == Settings.Listen.Flag))
        {
            return new HelpAction { MaxWidth = width }.Invoke(parseResult);
        }

        var (description, example) = command is RootCommand
            ? (rootDescription, rootExample)
            : HelpText.SplitExample(command.Description ?? "");
        parseResult.InvocationConfiguration.Output.Write(HelpText.Render(command, description, example ?? "gollamas " + command.Name, width));
        return ExitCodes.Success;
    }

    private static int TerminalWidth()
    {
        if (Console.IsOutputRedirected)
        {
            return 80;
        }

        try
        {
            return Console.WindowWidth is > 0 and var columns ? columns : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
