using System.CommandLine;
using System.CommandLine.Help;
using Gollamas.Cli;
using Gollamas.Hosting;

namespace Gollamas.Tests.Cli;

public class HelpTextTests
{
    // System.CommandLine wraps help at Console.WindowWidth, or not at all when stdout is
    // redirected; pinning the width keeps this test independent of the console running it.
    private const int HelpWidth = 100;

    [Fact]
    public async Task Help_Output_MatchesCheckedInHelpFile()
    {
        var command = GollamasCommand.Create(_ => null, (_, _, _) => Task.FromResult(ExitCodes.Unexpected));
        var helpAction = command.Options.OfType<HelpOption>().Single().Action.Should().BeOfType<HelpAction>().Subject;
        helpAction.MaxWidth = HelpWidth;
        var output = new StringWriter();
        var error = new StringWriter();
        var expected = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Cli", "help.txt"));

        var exitCode = await GollamasCommand.InvokeAsync(command, ["--help"], GollamasCommandTests.Configuration(output, error), CancellationToken.None);

        exitCode.Should().Be(ExitCodes.Success);
        error.ToString().Should().BeEmpty();
        Normalize(output.ToString()).Should().Be(Normalize(expected));
    }

    // The usage line shows the running executable's name (the test host here, "gollamas" when
    // shipped), and wrapped lines end in a space that editors would strip from the file.
    private static string Normalize(string help) =>
        string.Join('\n', help.ReplaceLineEndings("\n").Split('\n').Select(line => line.TrimEnd()))
            .Replace($"  {RootCommand.ExecutableName} [", "  gollamas [", StringComparison.Ordinal);
}
