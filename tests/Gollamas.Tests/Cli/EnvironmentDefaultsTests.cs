using Gollamas.Cli;
using Gollamas.Config;

namespace Gollamas.Tests.Cli;

public class EnvironmentDefaultsTests
{
    [Theory]
    [InlineData(null, null, null, null)]
    [InlineData(null, "legacy", "legacy", "PROXIES")]
    [InlineData("prefixed", "legacy", "prefixed", "GOLLAMAS_PROXIES")]
    [InlineData("", "legacy", "legacy", "PROXIES")]
    [InlineData(" \t", null, null, null)]
    [InlineData("prefixed", "", "prefixed", "GOLLAMAS_PROXIES")]
    public void Find_Variables_PrefixedWinsAndEmptyCountsAsUnset(string? prefixed, string? legacy, string? value, string? source)
    {
        var variables = new Dictionary<string, string?> { ["GOLLAMAS_PROXIES"] = prefixed, ["PROXIES"] = legacy };
        var environment = new EnvironmentDefaults(name => variables.GetValueOrDefault(name));

        var entry = environment.Find(Settings.Proxies);

        entry.Should().Be(value is null ? null : new ConfigEntry(value, source!));
    }

    [Theory]
    [InlineData(null, "legacy", null)]
    [InlineData("prefixed", "legacy", "prefixed")]
    [InlineData(" ", "legacy", null)]
    public void Find_SettingWithoutLegacyVariable_ReadsOnlyThePrefixedOne(string? prefixed, string? unprefixed, string? value)
    {
        var variables = new Dictionary<string, string?> { ["GOLLAMAS_QUEUE_LENGTH"] = prefixed, ["QUEUE_LENGTH"] = unprefixed };
        var environment = new EnvironmentDefaults(name => variables.GetValueOrDefault(name));

        var entry = environment.Find(Settings.QueueLength);

        entry.Should().Be(value is null ? null : new ConfigEntry(value, "GOLLAMAS_QUEUE_LENGTH"));
    }

    [Fact]
    public void EnvironmentHelp_SettingWithoutLegacyVariable_ListsOnlyThePrefixedVariable()
    {
        Settings.HealthInterval.EnvironmentHelp.Should().Be("[env: GOLLAMAS_HEALTH_INTERVAL]");
    }

    [Fact]
    public void EnvironmentHelp_SettingWithLegacyVariable_ListsBothVariables()
    {
        Settings.ListAliases.EnvironmentHelp.Should().Be("[env: GOLLAMAS_LIST_ALIASES, LIST_ALIASES]");
    }
}
