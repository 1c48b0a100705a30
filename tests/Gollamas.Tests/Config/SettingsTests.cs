using Gollamas.Config;

namespace Gollamas.Tests.Config;

/// <summary>The table of settings itself: every row complete, every default valid, nothing named twice.</summary>
public class SettingsTests
{
    public static TheoryData<string> Flags() => [.. Settings.All.Select(static s => s.Flag)];

    [Theory]
    [MemberData(nameof(Flags))]
    public void Row_Variable_IsAGollamasVariable(string flag)
    {
        var setting = Row(flag);

        setting.Variable.Should().MatchRegex("^GOLLAMAS_[A-Z_]+$");
        setting.EnvironmentHelp.Should().StartWith($"[env: {setting.Variable}");
    }

    [Theory]
    [MemberData(nameof(Flags))]
    public void Row_Help_EndsWithAnExampleOfItsOwnFlag(string flag)
    {
        var setting = Row(flag);

        setting.Help.Should().Contain($"Example: {setting.Flag}");
        if (setting.Kind == SettingKind.Pairs)
        {
            setting.ListFlag.Should().StartWith("--");
            setting.ListHelp.Should().Contain($"Example: {setting.ListFlag}");
        }
        else
        {
            setting.ListFlag.Should().BeNull();
            setting.ListHelp.Should().BeNull();
        }
    }

    [Theory]
    [MemberData(nameof(Flags))]
    public void Row_Default_ParsesWithItsOwnParser(string flag)
    {
        var setting = Row(flag);

        setting.CheckDefault().Should().BeEmpty();
        if (setting.Default is not null)
        {
            // Only a row that parses its own value can have a default to parse.
            setting.Should().Match<Setting>(static s => s.GetType().IsGenericType);
            setting.Kind.Should().BeOneOf(SettingKind.Scalar, SettingKind.Switch);
        }
    }

    [Theory]
    [MemberData(nameof(Flags))]
    public void Row_Kind_MatchesHowTheRowIsRead(string flag)
    {
        var setting = Row(flag);
        var type = setting.GetType();

        var expected = setting.Kind switch
        {
            SettingKind.Scalar or SettingKind.Switch => [typeof(ValueSetting<>), typeof(Setting)],
            SettingKind.List or SettingKind.Repeatable or SettingKind.Secrets => [typeof(ListSetting<>), typeof(Setting)],
            _ => new[] { typeof(Setting) },
        };

        expected.Should().Contain(type.IsGenericType ? type.GetGenericTypeDefinition() : type);
    }

    [Theory]
    [MemberData(nameof(Flags))]
    public void Row_WithAValue_HasAPlaceholderForItInHelp(string flag)
    {
        var setting = Row(flag);

        if (setting.Kind == SettingKind.Switch)
        {
            setting.HelpName.Should().BeNull();
        }
        else
        {
            setting.HelpName.Should().MatchRegex(@"^[A-Z\[]");
        }
    }

    [Fact]
    public void Table_FlagsAliasesAndVariables_AreEachNamedOnce()
    {
        var flags = Settings.All.SelectMany(static s => new[] { s.Flag, s.ListFlag }.Concat(s.Aliases)).OfType<string>().ToList();
        var variables = Settings.All.SelectMany(static s => new[] { s.Variable, s.LegacyVariable }).OfType<string>().ToList();

        flags.Should().OnlyHaveUniqueItems();
        variables.Should().OnlyHaveUniqueItems();
        Settings.All.Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Table_EveryRowDeclared_IsListedInAll()
    {
        // A row left out of All would be in no help, read from no source and parsed by no one.
        var declared = typeof(Settings).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(static f => typeof(Setting).IsAssignableFrom(f.FieldType))
            .Select(static f => (Setting)f.GetValue(null)!)
            .ToList();

        Settings.All.Should().HaveSameCount(declared).And.Contain(declared);
    }

    [Fact]
    public void Default_OfARow_IsTheDefaultOfTheOptionsRecords()
    {
        var options = new GollamasOptions { Listen = new ListenAddress("", 0), Connections = [], Models = [], Aliases = [] };

        options.Limits.IdleTimeout.Should().Be(TimeSpan.FromMinutes(10));
        options.Limits.MaxRequestBodyBytes.Should().Be(256L * 1024 * 1024);
        options.Limits.MaxConnections.Should().Be(4096);
        options.Concurrency.QueueLength.Should().Be(64);
        options.Logging.AccessLog.Should().BeTrue();
        options.Metrics.Enabled.Should().BeTrue();
        options.MinimumLevel.Should().Be(Microsoft.Extensions.Logging.LogLevel.Information);
    }

    [Fact]
    public void Read_ValueFromAnySource_IsParsedAndNamedByThatSource()
    {
        // A source the table does not know (a configuration file, say) gives a raw value and its place.
        var input = new ConfigInput().With(Settings.IdleTimeout, new ConfigEntry("soon", "gollamas.toml:7"));
        var errors = new List<ConfigError>();

        Settings.IdleTimeout.Read(input, errors);

        errors.Select(static e => e.ToString()).Should().Equal(
            "gollamas.toml:7 \"soon\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)");
    }

    [Fact]
    public void Read_NothingGiven_ParsesTheDefaultNamingTheFlag()
    {
        var errors = new List<ConfigError>();

        var value = Settings.HealthTimeout.Read(new ConfigInput(), errors);

        value.Should().Be(TimeSpan.FromSeconds(2));
        errors.Should().BeEmpty();
    }

    [Fact]
    public void With_OnACopy_LeavesTheOriginalAsItWas()
    {
        var original = new ConfigInput().With(Settings.QueueLength, new ConfigEntry("8", "--queue-length"));

        var changed = original.With(Settings.QueueLength, new ConfigEntry("9", "GOLLAMAS_QUEUE_LENGTH")) with
        {
            HealthFailures = new ConfigEntry("4", "--health-failures"),
        };

        original.QueueLength.Should().Be(new ConfigEntry("8", "--queue-length"));
        original.HealthFailures.Should().BeNull();
        changed.QueueLength.Should().Be(new ConfigEntry("9", "GOLLAMAS_QUEUE_LENGTH"));
        changed[Settings.HealthFailures].Should().Equal(new ConfigEntry("4", "--health-failures"));
    }

    private static Setting Row(string flag) => Settings.All.Single(s => s.Flag == flag);
}
