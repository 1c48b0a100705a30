using Gollamas.Config;

namespace Gollamas.Tests.Config;

/// <summary>The YAML configuration file read into the rows' raw entries, and its problems.</summary>
public class ConfigFileTests
{
    private const string File = "gollamas.yaml";

    [Fact]
    public void Keys_EveryRowButConfig_HasOneSnakeCaseKeyOfItsOwn()
    {
        var keys = Settings.All.Where(static s => !s.NotInFile).Select(static s => s.FileKey).ToList();

        Settings.All.Where(static s => s.NotInFile).Should().Equal(Settings.Config);
        Settings.Config.FileKey.Should().BeNull();
        keys.Should().OnlyHaveUniqueItems().And.AllSatisfy(static k => k.Should().MatchRegex("^[a-z][a-z_]*[a-z]$"));
        Settings.HealthInterval.FileKey.Should().Be("health_interval");
        Settings.ApiKeys.FileKey.Should().Be("api_keys");
        Settings.Proxies.FileKey.Should().Be("models");
    }

    [Fact]
    public void Parse_Scalars_BecomeEntriesNamingFileLineAndKey()
    {
        var input = Parse("""
            # a comment
            health_interval: 10s
            list_aliases: true
            """);

        input.HealthInterval.Should().Be(new ConfigEntry("10s", "gollamas.yaml:2: health_interval"));
        input.ListAliases.Should().Be(new ConfigEntry("true", "gollamas.yaml:3: list_aliases"));
    }

    [Fact]
    public void Parse_ListSetting_TakesAYamlListOrACommaList()
    {
        var input = Parse("""
            origins:
              - https://a.example
              - https://b.example
            allowed_hosts: a.example, b.example
            """);

        input.Origins.Should().Equal(
            new ConfigEntry("https://a.example", "gollamas.yaml:2: origins"),
            new ConfigEntry("https://b.example", "gollamas.yaml:3: origins"));
        input.AllowedHosts.Select(static e => e.Value).Should().Equal("a.example", "b.example");
    }

    [Fact]
    public void Parse_Structure_BecomesThePairsOfTheRouteRows()
    {
        var input = Parse("""
            connections:
              gpu1:
                url: http://10.0.0.5:11434
                max_concurrency: 2
              cpu1: http://10.0.0.7:11434
            models:
              llama3.2:
                connections: [gpu1, cpu1]
                aliases: [gpt-4o]
                keep_alive: 30m
                force_num_ctx: 8192
                preload: true
              qwen3:8b: [gpu1]
            aliases:
              gpt-4o-mini: qwen3:8b
            """);

        input.Connections.Should().Equal(
            new ConfigEntry("gpu1=http://10.0.0.5:11434", "gollamas.yaml:3: connections.gpu1.url"),
            new ConfigEntry("cpu1=http://10.0.0.7:11434", "gollamas.yaml:5: connections.cpu1"));
        input.MaxConcurrency.Should().Equal(new ConfigEntry("gpu1=2", "gollamas.yaml:4: connections.gpu1.max_concurrency"));
        input.Proxies.Should().Equal(
            new ConfigEntry("llama3.2=gpu1", "gollamas.yaml:8: models.llama3.2.connections"),
            new ConfigEntry("llama3.2=cpu1", "gollamas.yaml:8: models.llama3.2.connections"),
            new ConfigEntry("qwen3:8b=gpu1", "gollamas.yaml:13: models.qwen3:8b"));
        input.Aliases.Should().Equal(
            new ConfigEntry("gpt-4o=llama3.2", "gollamas.yaml:9: models.llama3.2.aliases"),
            new ConfigEntry("gpt-4o-mini=qwen3:8b", "gollamas.yaml:15: aliases.gpt-4o-mini"));
        input.KeepAlive.Should().Equal(new ConfigEntry("llama3.2=30m", "gollamas.yaml:10: models.llama3.2.keep_alive"));
        input.ForceNumCtx.Should().Equal(new ConfigEntry("llama3.2=8192", "gollamas.yaml:11: models.llama3.2.force_num_ctx"));
        input.Preload.Should().Equal(new ConfigEntry("llama3.2", "gollamas.yaml:12: models.llama3.2.preload"));
    }

    [Fact]
    public void Parse_AnchorAndAlias_ShareTheValue()
    {
        var input = Parse("""
            connections:
              gpu1: &gpu http://10.0.0.5:11434
            models:
              llama3.2: &routes [gpu1]
              qwen3:8b: *routes
            """);

        input.Proxies.Select(static e => e.Value).Should().Equal("llama3.2=gpu1", "qwen3:8b=gpu1");
    }

    [Fact]
    public void Parse_EmptyFile_GivesNothing()
    {
        var errors = new List<ConfigError>();

        var input = ConfigFile.Parse("# nothing set yet\n", File, errors);

        errors.Should().BeEmpty();
        input.Should().NotBeNull();
        Settings.All.Should().AllSatisfy(s => input![s].Should().BeEmpty());
    }

    [Theory]
    [InlineData("helth_interval: 5s", "gollamas.yaml:1: helth_interval: unknown key (did you mean 'health_interval'?)")]
    [InlineData("health-interval: 5s", "gollamas.yaml:1: health-interval: unknown key (did you mean 'health_interval'?)")]
    [InlineData("GOLLAMAS_QUEUE_LENGTH: 5", "gollamas.yaml:1: GOLLAMAS_QUEUE_LENGTH: unknown key (did you mean 'queue_length'?)")]
    [InlineData("proxies: {m: [gpu1]}", "gollamas.yaml:1: proxies: unknown key")]
    [InlineData("config: other.yaml", "gollamas.yaml:1: config: not read from a file (give --config or GOLLAMAS_CONFIG)")]
    [InlineData("connections: {gpu1: {url: http://h:1, max_concurency: 2}}", "gollamas.yaml:1: connections.gpu1.max_concurency: unknown key (did you mean 'max_concurrency'?)")]
    [InlineData("models: {m: {connections: [c], keepalive: 5m}}", "gollamas.yaml:1: models.m.keepalive: unknown key (did you mean 'keep_alive'?)")]
    public void Parse_UnknownKey_IsReportedWithTheClosestKnownOne(string yaml, string message)
    {
        Errors(yaml).Should().Equal(message);
    }

    [Theory]
    [InlineData("health_interval: [1s, 2s]", "gollamas.yaml:1: health_interval: expected a single value, not a list")]
    [InlineData("listen: {host: a}", "gollamas.yaml:1: listen: expected a single value, not a mapping")]
    [InlineData("origins: {a: b}", "gollamas.yaml:1: origins: expected a list or a value, not a mapping")]
    [InlineData("connections: [gpu1]", "gollamas.yaml:1: connections: expected a mapping of connection ids and their URLs (gpu1: http://10.0.0.5:11434), not a list")]
    [InlineData("models: llama3.2", "gollamas.yaml:1: models: expected a mapping of model names and their connections (llama3.2: [gpu1]), not a value")]
    [InlineData("aliases: [a]", "gollamas.yaml:1: aliases: expected a mapping of aliases and the models they stand for (gpt-4o: llama3.2), not a list")]
    [InlineData("models: {m: [[gpu1]]}", "gollamas.yaml:1: models.m: expected a single value, not a list")]
    [InlineData("connections: {gpu1: {max_concurrency: 2}}", "gollamas.yaml:1: connections.gpu1: no url (the server's address: url: http://10.0.0.5:11434)")]
    [InlineData("models: {m: {aliases: [a]}}", "gollamas.yaml:1: models.m: no connections (the ids or URLs of the servers that serve it: connections: [gpu1]; or discover: on a connection that has it)")]
    [InlineData("models: {m: []}", "gollamas.yaml:1: models.m: no connection (the ids or URLs of the servers that serve it, in order of preference)")]
    [InlineData("models: {m: {connections: [c], preload: maybe}}", "gollamas.yaml:1: models.m.preload \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)")]
    [InlineData("health_interval:", "gollamas.yaml:1: health_interval: no value (leave the key out for the default)")]
    [InlineData("api_keys: []", "gollamas.yaml:1: api_keys: empty list (leave the key out to require no API key)")]
    [InlineData("connections: {a=b: http://h:1}", "gollamas.yaml:1: connections.a=b: '=' cannot be part of a connection id")]
    [InlineData("- listen: :1", "gollamas.yaml:1: expected settings as keys and values (health_interval: 10s), not a list")]
    public void Parse_WrongShape_IsReportedAtItsLine(string yaml, string message)
    {
        Errors(yaml).Should().Equal(message);
    }

    [Fact]
    public void Parse_RepeatedKey_IsReportedWithTheFirstOnesLine()
    {
        var errors = Errors("""
            listen: :1
            models:
              m: [gpu1]
              m: [gpu2]
            listen: :2
            """);

        errors.Should().Equal(
            "gollamas.yaml:4: models.m: repeated key (first at line 3)",
            "gollamas.yaml:5: listen: repeated key (first at line 1)");
    }

    [Theory]
    [InlineData("listen: :1\nmodels: {m: [gpu1]\n", "gollamas.yaml:3: While parsing a flow mapping,  did not find expected ',' or '}'.")]
    [InlineData("models: {m: [gpu1]\nlisten: :1\n", "gollamas.yaml:1: not valid YAML after this point: a '[' or '{' not closed, or going on at a smaller indentation")]
    [InlineData("listen: \"unterminated\n", "gollamas.yaml:1: While scanning a quoted scalar, found unexpected end of stream.")]
    [InlineData("a: b\n  c: d\n", "gollamas.yaml:2: While scanning a plain scalar value, found invalid mapping.")]
    [InlineData("models: *nowhere\n", "gollamas.yaml:1: Alias *nowhere names no anchor above it.")]
    public void Parse_NotYaml_IsTheParsersOwnMessageAtItsLine(string yaml, string message)
    {
        var errors = new List<ConfigError>();

        var input = ConfigFile.Parse(yaml, File, errors);

        input.Should().BeNull();
        errors.Select(static e => e.ToString()).Should().Equal(message);
    }

    [Fact]
    public void Parse_SecondDocument_IsReported()
    {
        Errors("listen: :1\n---\nlisten: :2\n").Should().Equal(
            "gollamas.yaml:2: a second YAML document (one file holds one, without '---' between parts)");
    }

    [Fact]
    public void Parse_DeepNesting_IsAParserErrorNotACrash()
    {
        var errors = new List<ConfigError>();

        ConfigFile.Parse("models: " + new string('[', 10_000), File, errors).Should().BeNull();

        errors.Should().ContainSingle().Which.ToString().Should().Be("gollamas.yaml:1: Nesting deeper than 64 levels.");
    }

    [Theory]
    [InlineData("helth_interval", "health_interval")]
    [InlineData("queue_lenght", "queue_length")]
    [InlineData("TLS-CERT", "tls_cert")]
    [InlineData("colour", null)]
    public void ClosestKey_IsOnlySuggestedWhenClose(string key, string? expected)
    {
        ConfigFile.ClosestKey(key, Settings.All.Select(static s => s.FileKey).OfType<string>()).Should().Be(expected);
    }

    private static ConfigInput Parse(string yaml)
    {
        var errors = new List<ConfigError>();
        var input = ConfigFile.Parse(yaml, File, errors);
        errors.Should().BeEmpty();
        return input!;
    }

    private static List<string> Errors(string yaml)
    {
        var errors = new List<ConfigError>();
        ConfigFile.Parse(yaml, File, errors).Should().NotBeNull("the text is YAML");
        return [.. errors.Select(static e => e.ToString())];
    }
}
