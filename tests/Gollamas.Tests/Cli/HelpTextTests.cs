using System.CommandLine;
using System.CommandLine.Help;
using Gollamas.Cli;
using Gollamas.Config;
using Gollamas.Hosting;

namespace Gollamas.Tests.Cli;

public class HelpTextTests
{
    // The help is laid out at the terminal's width, or 80 columns when stdout is redirected;
    // pinning it keeps this test independent of the console running it.
    private const int HelpWidth = 100;

    [Fact]
    public async Task Help_Output_MatchesCheckedInHelpFile()
    {
        var expected = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Cli", "help.txt"));

        var (exitCode, output, error) = await HelpAsync(HelpWidth, "--help");

        exitCode.Should().Be(ExitCodes.Success);
        error.Should().BeEmpty();
        Normalize(output).Should().Be(Normalize(expected));
    }

    [Fact]
    public void Groups_EverySettingInExactlyOne()
    {
        var grouped = HelpGroups.All.SelectMany(static g => g.Settings).ToArray();

        grouped.Should().OnlyHaveUniqueItems(static s => s.Flag);
        grouped.Select(static s => s.Flag).Should().BeEquivalentTo(
            Settings.All.Select(static s => s.Flag),
            "each setting of Config/Settings.cs is listed under one subject of --help: add a new one to HelpGroups");
        HelpGroups.WithUngrouped().Select(static g => g.Title).Should().NotContain(HelpGroups.OtherTitle);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(80)]
    [InlineData(60)]
    public async Task Help_EveryLineFitsTheWidth_OrIsOneWordTooLongToBreak(int width)
    {
        var (_, output, _) = await HelpAsync(width, "--help");

        foreach (var line in Lines(output).Where(l => l.Length > width))
        {
            var words = line.Replace("Example:", "", StringComparison.Ordinal).Replace(" \\", "", StringComparison.Ordinal)
                .Split(' ', StringSplitOptions.RemoveEmptyEntries);
            words.Should().ContainSingle($"only a word wider than {width} columns may pass them: '{line}'");
        }
    }

    [Theory]
    [InlineData(100)]
    [InlineData(80)]
    [InlineData(60)]
    public async Task Help_EveryExample_WholeAcrossItsLines(int width)
    {
        var (_, output, _) = await HelpAsync(width, "--help");

        // Every line of an example that goes on ends with " \": joined, they are the row's example.
        var examples = new List<string>();
        var lines = Lines(output);
        for (var i = 0; i < lines.Length; i++)
        {
            var at = lines[i].IndexOf("Example: ", StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            var example = lines[i][(at + "Example: ".Length)..];
            while (example.EndsWith(" \\", StringComparison.Ordinal))
            {
                example = example[..^2] + " " + lines[++i].Trim();
            }

            examples.Add(example);
        }

        var expected = Settings.All
            .SelectMany(static s => new[] { s.Help, s.ListHelp })
            .Where(static h => h is not null)
            .Select(static h => HelpText.SplitExample(h!).Example!);
        examples.Should().Contain(expected);
        examples.Should().Contain("gollamas check --proxy llama3.2=http://gpu1:11434");
    }

    [Fact]
    public async Task Help_EveryFlagAndVariableOfTheRootCommandIsListed()
    {
        var command = GollamasCommand.Create(_ => null, (_, _, _) => Task.FromResult(ExitCodes.Unexpected));

        var (_, output, _) = await HelpAsync(80, "--help");

        foreach (var option in command.Options)
        {
            foreach (var name in option.Aliases.Prepend(option.Name))
            {
                output.Should().MatchRegex($@"(^|[\s,]){System.Text.RegularExpressions.Regex.Escape(name)}([\s,]|$)", $"{name} is an option");
            }
        }

        foreach (var setting in Settings.All)
        {
            output.Should().Contain(setting.Variable);
        }
    }

    [Fact]
    public async Task Help_OfCheck_TheSameGroupsUnderItsOwnUsage()
    {
        var (exitCode, output, _) = await HelpAsync(80, "check", "--help");

        exitCode.Should().Be(ExitCodes.Success);
        output.Should().Contain("Usage:\n  gollamas check [options]\n");
        output.Should().Contain("\nLimits and timeouts:\n  --max-concurrency [ID_OR_URL=]N\n");
        output.Should().Contain("\n  Example: gollamas check --proxy llama3.2=http://gpu1:11434\n");
    }

    [Fact]
    public async Task Help_OfVersion_TheLibrarysOwn()
    {
        var (exitCode, output, _) = await HelpAsync(80, "version", "--help");

        exitCode.Should().Be(ExitCodes.Success);
        output.Should().Contain("Prints the version, commit and runtime identifier");
        output.Should().NotContain("Limits and timeouts:");
    }

    private static async Task<(int ExitCode, string Output, string Error)> HelpAsync(int width, params string[] args)
    {
        var command = GollamasCommand.Create(_ => null, (_, _, _) => Task.FromResult(ExitCodes.Unexpected));
        var helpAction = command.Options.OfType<HelpOption>().Single().Action.Should().BeOfType<GroupedHelpAction>().Subject;
        helpAction.MaxWidth = width;
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await GollamasCommand.InvokeAsync(command, args, GollamasCommandTests.Configuration(output, error), CancellationToken.None);
        return (exitCode, output.ToString().ReplaceLineEndings("\n"), error.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n');

    // Wrapped lines may end in a space that editors would strip from the file.
    private static string Normalize(string help) =>
        string.Join('\n', help.ReplaceLineEndings("\n").Split('\n').Select(line => line.TrimEnd()))
            .Replace($"  {RootCommand.ExecutableName} [", "  gollamas [", StringComparison.Ordinal);
}
