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
}
