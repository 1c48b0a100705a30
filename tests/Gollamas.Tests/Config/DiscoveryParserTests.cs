using Gollamas.Config;

namespace Gollamas.Tests.Config;

/// <summary>--discover and a connection's discover: key: one rule per connection, its patterns, and what they admit.</summary>
public sealed class DiscoveryParserTests
{
    [Fact]
    public void Discover_AloneIsAConfiguration_AUrlDeclaresItsConnection()
    {
        var options = Parse(["--discover", "gpu1", "--discover", "http://gpu2:11434", "--discover", "10.0.0.7:11434"], connections: ["gpu1=http://gpu1:11434"]);

        options.Models.Should().BeEmpty();
        options.Connections.Select(static c => c.Id).Should().Equal("gpu1", "gpu2:11434", "10.0.0.7:11434");
        options.Discovery.Should().BeEquivalentTo(
            [new DiscoveryRule("gpu1", [], []), new DiscoveryRule("gpu2:11434", [], []), new DiscoveryRule("10.0.0.7:11434", [], [])],
            static o => o.WithStrictOrdering());
        options.Notes.Should().ContainSingle().Which.Should().Be("--discover \"10.0.0.7:11434\": read as http://10.0.0.7:11434");
    }

    [Fact]
    public void Discover_PatternsOfOneConnection_GatherIntoOneRule_AndAUrlNamesTheSameConnectionAsItsId()
    {
        var options = Parse(
            ["--discover", "gpu1=qwen3:*", "--discover", "http://gpu1:11434=llama*", "--discover", "gpu1=!*:70b", "--discover", "gpu1=QWEN3:*"],
            connections: ["gpu1=http://gpu1:11434"]);

        options.Discovery.Should().ContainSingle().Which.Should().BeEquivalentTo(new DiscoveryRule("gpu1", ["qwen3:*", "llama*"], ["*:70b"]));
    }

    [Fact]
    public void Discover_WithProxies_BothAreKept()
    {
        var options = Parse(["--proxy", "llama3.2=gpu1", "--discover", "gpu1"], connections: ["gpu1=http://gpu1:11434"]);

        options.Models.Should().ContainSingle().Which.Name.Should().Be("llama3.2");
        options.Discovery.Should().ContainSingle().Which.ConnectionId.Should().Be("gpu1");
    }

    [Fact]
    public void Alias_OfAModelNotConfigured_IsKeptWhenSomeConnectionDiscovers()
    {
        var options = Parse(["--discover", "http://gpu1:11434", "--alias", "gpt-4o=qwen3:8b"]);

        options.Aliases.Should().Equal(new AliasConfig("gpt-4o", "qwen3:8b"));
    }

    [Fact]
    public void Preload_OfAModelNotConfigured_IsRefusedEvenWithDiscovery()
    {
        var input = Input(["--discover", "http://gpu1:11434"], null).With(Settings.Preload, [new ConfigEntry("llama3.2", "--preload")]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(static e => e.ToString()).Should().Equal("--preload \"llama3.2\": 'llama3.2' is not a configured model or alias");
    }

    [Fact]
    public void KeepAlive_OfAModelNotConfigured_IsRefusedWithoutDiscovery_AndKeptWithIt()
    {
        var without = Input(["--proxy", "qwen3=http://gpu1:11434"], null).With(Settings.KeepAlive, [new ConfigEntry("llama3.2=10m", "--keep-alive")]);
        var with = without.With(Settings.Discover, [new ConfigEntry("http://gpu1:11434", "--discover")]);

        ConfigParser.TryParse(without, out _, out var errors).Should().BeFalse();
        errors.Select(static e => e.ToString()).Should().Equal("--keep-alive \"llama3.2=10m\": 'llama3.2' is not a configured model or alias");
        ConfigParser.TryParse(with, out var options, out _).Should().BeTrue();
        ModelName.TryParse("llama3.2:latest", out var found).Should().BeTrue();
        options!.Lifecycle.For(found).KeepAliveText.Should().Be("10m");
    }

    [Theory]
    [InlineData("", "--discover: empty entry (expected ID_OR_URL, ID_OR_URL=PATTERN or ID_OR_URL=!PATTERN)")]
    [InlineData("=qwen3", "--discover \"=qwen3\": empty connection id or URL (expected ID_OR_URL, ID_OR_URL=PATTERN or ID_OR_URL=!PATTERN)")]
    [InlineData("gpu1=", "--discover \"gpu1=\": empty pattern (expected ID_OR_URL, ID_OR_URL=PATTERN or ID_OR_URL=!PATTERN)")]
    [InlineData("gpu1=!", "--discover \"gpu1=!\": empty pattern (expected ID_OR_URL, ID_OR_URL=PATTERN or ID_OR_URL=!PATTERN)")]
    [InlineData("gpu1=qwen 3", "--discover \"gpu1=qwen 3\": invalid pattern 'qwen 3' (a model name's letters, digits and _-.:/, with * for any text and ? for one character)")]
    [InlineData("gpu9", "--discover \"gpu9\": unknown connection id 'gpu9'")]
    [InlineData("http://gpu1:11434/v1", "--discover \"http://gpu1:11434/v1\": ")]
    public void Discover_BadEntry_IsOneErrorNamingIt(string value, string message)
    {
        var input = Input(["--discover", value], ["gpu1=http://gpu1:11434"]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().ContainSingle().Which.ToString().Should().StartWith(message);
    }

    [Theory]
    [InlineData("llama3.2", "llama3.2:latest", true)]
    [InlineData("llama3.2:latest", "llama3.2", true)]
    [InlineData("llama3.2", "llama3.2:1b", false)]
    [InlineData("qwen3:*", "qwen3:30b-a3b", true)]
    [InlineData("qwen3:*", "qwen2.5:7b", false)]
    [InlineData("*:70b", "llama3.1:70b", true)]
    [InlineData("LLAMA*", "llama3.2", true)]
    [InlineData("library/llama*", "llama3.2", true)]
    [InlineData("hf.co/*", "hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M", true)]
    [InlineData("hf.co/*", "llama3.2", false)]
    [InlineData("phi?", "phi4", true)]
    [InlineData("phi?", "phi", false)]
    [InlineData("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public void Pattern_MatchesAnySpellingOllamaAccepts_IgnoringCase(string pattern, string model, bool admitted)
    {
        ModelName.TryParse(model, out var name).Should().BeTrue();

        new DiscoveryRule("c", [pattern], []).Admits(name).Should().Be(admitted);
    }

    [Fact]
    public void Exclude_WinsOverInclude_AndAloneExcludesFromEverything()
    {
        ModelName.TryParse("llama3.1:70b", out var big).Should().BeTrue();
        ModelName.TryParse("llama3.1:8b", out var small).Should().BeTrue();

        new DiscoveryRule("c", ["llama*"], ["*:70b"]).Admits(big).Should().BeFalse();
        new DiscoveryRule("c", ["llama*"], ["*:70b"]).Admits(small).Should().BeTrue();
        new DiscoveryRule("c", [], ["*:70b"]).Admits(big).Should().BeFalse();
        new DiscoveryRule("c", [], ["*:70b"]).Admits(small).Should().BeTrue();
    }

    [Fact]
    public void File_DiscoverKey_TrueFalseOrPatterns()
    {
        var errors = new List<ConfigError>();
        var input = ConfigFile.Parse(
            "connections:\n"
            + "  a: {url: 'http://a:11434', discover: true}\n"
            + "  b: {url: 'http://b:11434', discover: false}\n"
            + "  c:\n"
            + "    url: http://c:11434\n"
            + "    discover:\n"
            + "      include: qwen3:*\n"
            + "      exclude: ['*:70b', '*:32b']\n",
            "gollamas.yaml",
            errors);

        errors.Should().BeEmpty();
        ConfigParser.TryParse(input!, out var options, out var parseErrors).Should().BeTrue(string.Join("; ", parseErrors));
        options!.Discovery.Should().BeEquivalentTo(
            [new DiscoveryRule("a", [], []), new DiscoveryRule("c", ["qwen3:*"], ["*:70b", "*:32b"])],
            static o => o.WithStrictOrdering());
    }

    [Fact]
    public void File_DiscoverKey_Problems_AreReportedWithTheirLines()
    {
        var errors = new List<ConfigError>();
        ConfigFile.Parse(
            "connections:\n"
            + "  a: {url: 'http://a:11434', discover: maybe}\n"
            + "  b: {url: 'http://b:11434', discover: {includes: [x]}}\n"
            + "  c: {url: 'http://c:11434', discover: {exclude: {x: y}}}\n",
            "gollamas.yaml",
            errors);

        errors.Select(static e => e.ToString()).Should().Equal(
            "gollamas.yaml:2: connections.a.discover \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)",
            "gollamas.yaml:3: connections.b.discover.includes: unknown key (did you mean 'include'?)",
            "gollamas.yaml:4: connections.c.discover.exclude: expected a list of model name patterns (qwen3:*), not a mapping");
    }

    private static GollamasOptions Parse(string[] flags, string[]? connections = null)
    {
        ConfigParser.TryParse(Input(flags, connections), out var options, out var errors).Should().BeTrue(string.Join("; ", errors));
        return options!;
    }

    private static ConfigInput Input(string[] flags, string[]? connections)
    {
        var discover = new List<ConfigEntry>();
        var proxies = new List<ConfigEntry>();
        var aliases = new List<ConfigEntry>();
        for (var i = 0; i < flags.Length; i += 2)
        {
            var list = flags[i] switch
            {
                "--discover" => discover,
                "--proxy" => proxies,
                "--alias" => aliases,
                _ => throw new ArgumentException(flags[i], nameof(flags)),
            };
            list.Add(new ConfigEntry(flags[i + 1], flags[i]));
        }

        return new ConfigInput(
            new ConfigEntry("localhost:11434", "--listen"),
            null,
            proxies,
            [.. (connections ?? []).Select(static c => new ConfigEntry(c, "--connection"))],
            aliases,
            null).With(Settings.Discover, discover);
    }
}
