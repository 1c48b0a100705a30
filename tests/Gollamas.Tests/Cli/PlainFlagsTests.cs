using Gollamas.Cli;

namespace Gollamas.Tests.Cli;

/// <summary>
/// What a newcomer types wrong on the command line: a boolean word other than true/false, a
/// misspelt flag, a variable that is nearly one of ours.
/// </summary>
public sealed class PlainFlagsTests
{
    private const string Proxy = "llama3.2=http://127.0.0.1:11435";

    [Theory]
    [InlineData("yes", true)]
    [InlineData("on", true)]
    [InlineData("1", true)]
    [InlineData("TRUE", true)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    public async Task Invoke_ListAliasesWithABooleanWord_ReadAsItsVariableReadsIt(string word, bool expected)
    {
        var spaced = await GollamasCommandTests.InvokeAsync(["--proxy", Proxy, "--list-aliases", word]);
        var joined = await GollamasCommandTests.InvokeAsync(["--proxy", Proxy, $"--list-aliases={word}"]);
        var variable = await GollamasCommandTests.InvokeAsync(["--proxy", Proxy], new() { ["GOLLAMAS_LIST_ALIASES"] = word });

        spaced.Error.Should().BeEmpty();
        spaced.Options!.ListAliases.Should().Be(expected);
        joined.Options!.ListAliases.Should().Be(expected);
        variable.Options!.ListAliases.Should().Be(expected);
    }

    [Fact]
    public async Task Invoke_OnByDefaultSwitchTurnedOffWithNo_IsOff()
    {
        var run = await GollamasCommandTests.InvokeAsync(["--access-log", "no", "--metrics", "off", "--proxy", Proxy]);

        run.Error.Should().BeEmpty();
        run.Options!.Logging.AccessLog.Should().BeFalse();
        run.Options.Metrics.Enabled.Should().BeFalse();
    }

    [Fact]
    public async Task Invoke_SwitchAloneBeforeAnotherFlag_IsOn()
    {
        var run = await GollamasCommandTests.InvokeAsync(["--list-aliases", "--proxy", Proxy]);

        run.Error.Should().BeEmpty();
        run.Options!.ListAliases.Should().BeTrue();
    }

    [Fact]
    public async Task Invoke_SwitchWithAWordThatIsNotABoolean_ConfigErrorNamingTheFlag()
    {
        var run = await GollamasCommandTests.InvokeAsync(["--proxy", Proxy, "--list-aliases", "maybe"]);

        run.ExitCode.Should().Be(Gollamas.Hosting.ExitCodes.ConfigError);
        run.Error.Should().Contain("--list-aliases").And.Contain("not a boolean (expected true/false, 1/0, yes/no or on/off)");
    }

    [Theory]
    [InlineData(new[] { "--proxi", Proxy }, "gollamas: unknown flag --proxi; did you mean --proxy?")]
    [InlineData(new[] { "--proxy", Proxy, "--lisen=:1" }, "gollamas: unknown flag --lisen; did you mean --listen?")]
    [InlineData(new[] { "--proxy", Proxy, "--list-alias" }, "gollamas: unknown flag --list-alias; did you mean --list-aliases?")]
    [InlineData(new[] { "--proxy", Proxy, "--frobnicate" }, "gollamas: unknown flag --frobnicate")]
    public async Task Invoke_MisspeltFlag_SaysWhichFlagItProbablyMeant(string[] args, string message)
    {
        var run = await GollamasCommandTests.InvokeAsync(args);

        run.ExitCode.Should().Be(Gollamas.Hosting.ExitCodes.ConfigError);
        run.Error.Should().Be(message + Environment.NewLine + "gollamas: run 'gollamas --help' for usage" + Environment.NewLine);
    }

    [Fact]
    public async Task Invoke_VariableNamedLikeOursThatNoSettingReads_WarnsNamingTheRightOne()
    {
        var environment = new Dictionary<string, string?>
        {
            ["GOLLAMAS_PROXY"] = Proxy,
            ["GOLLAMAS_LISTEN"] = "127.0.0.1:1",
            ["GOLLAMAS_SECRET_TOKEN"] = "Bearer x",
            ["GOLLAMAS_WHATEVER_ELSE"] = "1",
            ["PATH"] = "/usr/bin",
        };
        var command = GollamasCommand.Create(
            name => environment.GetValueOrDefault(name),
            static (_, _, _) => Task.FromResult(0),
            environmentVariableNames: () => environment.Keys);
        var error = new StringWriter();

        var exitCode = await GollamasCommand.InvokeAsync(
            command,
            ["--proxy", Proxy, "--connection-header", "http://127.0.0.1:11435=Authorization=env:GOLLAMAS_SECRET_TOKEN"],
            GollamasCommandTests.Configuration(new StringWriter(), error),
            CancellationToken.None);

        exitCode.Should().Be(0);
        error.ToString().Should().Be(
            "gollamas: warning: GOLLAMAS_PROXY is set, but gollamas has no such variable; did you mean GOLLAMAS_PROXIES?" + Environment.NewLine
            + "gollamas: warning: GOLLAMAS_WHATEVER_ELSE is set, but gollamas has no such variable" + Environment.NewLine);
    }
}
