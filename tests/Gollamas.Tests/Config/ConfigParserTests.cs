using Gollamas.Config;
using Microsoft.Extensions.Logging;

namespace Gollamas.Tests.Config;

public class ConfigParserTests
{
    private const string Url = "http://gpu1:11434";

    [Fact]
    public void TryParse_OneProxy_BuildsOptionsWithDefaults()
    {
        var input = Input(proxies: ["llama3.2=http://gpu1:11434"]);

        var ok = ConfigParser.TryParse(input, out var options, out var errors);

        ok.Should().BeTrue();
        errors.Should().BeEmpty();
        options!.Listen.Should().Be(new ListenAddress("localhost", 11434));
        options.MinimumLevel.Should().Be(LogLevel.Information);
        options.Connections.Should().Equal(new ConnectionConfig("http://gpu1:11434", new Uri("http://gpu1:11434/"), IsExplicit: false));
        options.Models.Should().ContainSingle().Which.Should().BeEquivalentTo(new ModelConfig("llama3.2", ["http://gpu1:11434"]));
        options.Aliases.Should().BeEmpty();
        options.ListAliases.Should().BeFalse();
    }

    [Theory]
    [InlineData("localhost:11434", "localhost", 11434)]
    [InlineData(" localhost:11434 ", "localhost", 11434)]
    [InlineData(":8080", "", 8080)]
    [InlineData("0.0.0.0:80", "0.0.0.0", 80)]
    [InlineData("[::1]:11434", "::1", 11434)]
    [InlineData("[::]:0", "::", 0)]
    [InlineData("http://localhost:11434", "localhost", 11434)]
    [InlineData("HTTP://my-host.lan:65535", "my-host.lan", 65535)]
    public void TryParse_ValidListen_ParsesHostAndPort(string value, string host, int port)
    {
        var input = Input(listen: value);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Listen.Should().Be(new ListenAddress(host, port));
    }

    [Theory]
    [InlineData("localhost", "--listen \"localhost\": missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    [InlineData("", "--listen: missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    [InlineData("localhost:", "--listen \"localhost:\": invalid port '' (expected 0-65535)")]
    [InlineData("localhost:65536", "--listen \"localhost:65536\": invalid port '65536' (expected 0-65535)")]
    [InlineData("localhost:-1", "--listen \"localhost:-1\": invalid port '-1' (expected 0-65535)")]
    [InlineData("localhost:http", "--listen \"localhost:http\": invalid port 'http' (expected 0-65535)")]
    [InlineData("::1:80", "--listen \"::1:80\": invalid host '::1' (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    [InlineData("my host:80", "--listen \"my host:80\": invalid host 'my host' (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    [InlineData("https://localhost:80", "--listen \"https://localhost:80\": invalid host 'https://localhost' (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    [InlineData("[::1]", "--listen \"[::1]\": invalid address (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    [InlineData("[1.2.3.4]:80", "--listen \"[1.2.3.4]:80\": invalid address (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    public void TryParse_InvalidListen_ReportsError(string value, string message)
    {
        var input = Input(listen: value);

        var ok = ConfigParser.TryParse(input, out var options, out var errors);

        ok.Should().BeFalse();
        options.Should().BeNull();
        errors.Select(e => e.ToString()).Should().Equal(message);
    }

    [Theory]
    [InlineData("panic", LogLevel.Critical)]
    [InlineData("fatal", LogLevel.Critical)]
    [InlineData("error", LogLevel.Error)]
    [InlineData("warn", LogLevel.Warning)]
    [InlineData("Warning", LogLevel.Warning)]
    [InlineData("INFO", LogLevel.Information)]
    [InlineData("debug", LogLevel.Debug)]
    [InlineData(" trace ", LogLevel.Trace)]
    public void TryParse_KnownLevel_MapsToLogLevel(string value, LogLevel expected)
    {
        var input = Input(level: value);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.MinimumLevel.Should().Be(expected);
    }

    [Theory]
    [InlineData("verbose")]
    [InlineData("information")]
    [InlineData("")]
    public void TryParse_UnknownLevel_ReportsAcceptedWords(string value)
    {
        var input = Input() with { Level = new ConfigEntry(value, "GOLLAMAS_LEVEL") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(new ConfigError("GOLLAMAS_LEVEL", value, "unknown level (expected panic, fatal, error, warn, info, debug or trace)"));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("true", true)]
    [InlineData("TRUE", true)]
    [InlineData("1", true)]
    [InlineData("yes", true)]
    [InlineData("On", true)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    public void TryParse_ListAliasesWord_ParsesBoolean(string value, bool expected)
    {
        var input = Input(listAliases: value);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.ListAliases.Should().Be(expected);
    }

    [Fact]
    public void TryParse_ListAliasesNotBoolean_ReportsError()
    {
        var input = Input() with { ListAliases = new ConfigEntry("maybe", "LIST_ALIASES") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal("LIST_ALIASES \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)");
    }

    [Theory]
    [InlineData("", "--proxies: empty entry (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData("  ", "--proxies \"  \": empty entry (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData("llama3.2", "--proxies \"llama3.2\": missing '=' (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData("=http://h:1", "--proxies \"=http://h:1\": empty model name (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData("llama3.2= ", "--proxies \"llama3.2= \": empty destination (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData("my.ns/m=http://h:1", "--proxies \"my.ns/m=http://h:1\": invalid model name 'my.ns/m'")]
    [InlineData("m=ftp://h:1", "--proxies \"m=ftp://h:1\": 'ftp://h:1' is not an http(s) URL (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData("m=http://h:1/?x=1", "--proxies \"m=http://h:1/?x=1\": 'http://h:1/?x=1' is not an http(s) URL (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData("m=c3", "--proxies \"m=c3\": unknown connection id 'c3'")]
    public void TryParse_InvalidProxyEntry_ReportsOneLine(string value, string message)
    {
        var input = Input(proxies: [value, "ok=http://h:1"]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(message);
    }

    [Theory]
    [InlineData("", "CONNECTIONS: empty entry (expected ID=URL)")]
    [InlineData("c1", "CONNECTIONS \"c1\": missing '=' (expected ID=URL)")]
    [InlineData("=http://h:1", "CONNECTIONS \"=http://h:1\": empty connection id (expected ID=URL)")]
    [InlineData("c1=", "CONNECTIONS \"c1=\": empty URL (expected ID=URL)")]
    [InlineData("c1=h:1", "CONNECTIONS \"c1=h:1\": 'h:1' is not an http(s) URL (expected ID=URL)")]
    [InlineData("c1=gpu1", "CONNECTIONS \"c1=gpu1\": 'gpu1' is not an http(s) URL (expected ID=URL)")]
    [InlineData("c1=file:///tmp/x", "CONNECTIONS \"c1=file:///tmp/x\": 'file:///tmp/x' is not an http(s) URL (expected ID=URL)")]
    [InlineData("c1=http://h:1/#top", "CONNECTIONS \"c1=http://h:1/#top\": 'http://h:1/#top' is not an http(s) URL (expected ID=URL)")]
    [InlineData("c1=http://", "CONNECTIONS \"c1=http://\": 'http://' is not an http(s) URL (expected ID=URL)")]
    [InlineData("http://a=http://h:1", "CONNECTIONS \"http://a=http://h:1\": connection id 'http://a' must not contain '://' (expected ID=URL)")]
    public void TryParse_InvalidConnectionEntry_ReportsOneLine(string value, string message)
    {
        var input = Input(proxies: ["m=http://h:2"]) with { Connections = [new ConfigEntry(value, "CONNECTIONS")] };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(message);
    }

    [Fact]
    public void TryParse_ConnectionIdDeclaredTwice_ReportsDuplicate()
    {
        var input = Input(proxies: ["m=c1"], connections: ["c1=http://h:1", "c1=http://h:2"]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal("--connections \"c1=http://h:2\": duplicate connection id 'c1'");
    }

    [Fact]
    public void TryParse_ProxyToFailedConnection_ReportsOnlyTheConnection()
    {
        var input = Input(proxies: ["m=c1"], connections: ["c1=gpu1"]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal("--connections \"c1=gpu1\": 'gpu1' is not an http(s) URL (expected ID=URL)");
    }

    [Theory]
    [InlineData("http://h:1", "http://h:1/")]
    [InlineData("https://h", "https://h/")]
    [InlineData("http://h:1/ollama", "http://h:1/ollama/")]
    [InlineData("http://h:1/ollama/", "http://h:1/ollama/")]
    [InlineData("HTTP://H:80/a/b", "http://h/a/b/")]
    public void TryParse_ConnectionUrl_KeepsBasePathWithTrailingSlash(string url, string expected)
    {
        var input = Input(proxies: ["m=c1"], connections: [$"c1={url}"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Should().ContainSingle().Which.BaseUri.AbsoluteUri.Should().Be(expected);
    }

    [Fact]
    public void TryParse_ModelsOnSameUrl_ShareOneImplicitConnection()
    {
        var input = Input(proxies: ["a=http://gpu1:11434", "b=HTTP://GPU1:11434/", "c=http://gpu2:11434"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Should().Equal(
            new ConnectionConfig("http://gpu1:11434", new Uri("http://gpu1:11434/"), IsExplicit: false),
            new ConnectionConfig("http://gpu2:11434", new Uri("http://gpu2:11434/"), IsExplicit: false));
        options.Models.Select(m => (m.Name, string.Join(' ', m.ConnectionIds))).Should().Equal(
            ("a", "http://gpu1:11434"), ("b", "http://gpu1:11434"), ("c", "http://gpu2:11434"));
    }

    [Fact]
    public void TryParse_ProxyUrlOfExplicitConnection_UsesFirstExplicitConnection()
    {
        var input = Input(proxies: ["a=http://gpu1:11434/"], connections: ["c1=http://gpu1:11434", "c2=http://gpu1:11434"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Should().Equal(
            new ConnectionConfig("c1", new Uri("http://gpu1:11434/"), IsExplicit: true),
            new ConnectionConfig("c2", new Uri("http://gpu1:11434/"), IsExplicit: true));
        options.Models.Should().ContainSingle().Which.ConnectionIds.Should().Equal("c1");
    }

    [Fact]
    public void TryParse_UnusedConnection_IsKept()
    {
        var input = Input(proxies: ["a=http://gpu1:1"], connections: ["spare=http://gpu9:1"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Select(c => c.Id).Should().Equal("spare", "http://gpu1:1");
    }

    [Fact]
    public void TryParse_SameModelOnSeveralRoutes_MergesInDeclarationOrder()
    {
        var input = Input(
            proxies: ["llama3.2=c2", "Library/LLAMA3.2:latest=http://gpu1:1", "llama3.2=c2", "registry.ollama.ai/library/llama3.2=c1", "qwen3=c1"],
            connections: ["c1=http://gpu1:1", "c2=http://gpu2:1"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Models.Should().HaveCount(2);
        options.Models[0].Name.Should().Be("llama3.2");
        options.Models[0].ConnectionIds.Should().Equal("c2", "c1");
        options.Models[1].Name.Should().Be("qwen3");
        options.Models[1].ConnectionIds.Should().Equal("c1");
    }

    [Fact]
    public void TryParse_EntrySides_AreTrimmed()
    {
        var input = Input(proxies: [" llama3.2 = c1 "], connections: [" c1 = http://gpu1:1 "], aliases: [" gpt-4 = llama3.2 "]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Should().Equal(new ConnectionConfig("c1", new Uri("http://gpu1:1/"), IsExplicit: true));
        options.Models.Should().ContainSingle().Which.Should().BeEquivalentTo(new ModelConfig("llama3.2", ["c1"]));
        options.Aliases.Should().Equal(new AliasConfig("gpt-4", "llama3.2"));
    }

    [Fact]
    public void TryParse_NoProxy_ReportsNoModel()
    {
        var input = Input(proxies: []);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal("--proxy/--proxies: no model configured (expected MODEL=URL or MODEL=CONNECTION_ID)");
    }

    [Fact]
    public void TryParse_Aliases_PointAtConfiguredSpelling()
    {
        var input = Input(proxies: ["llama3.2=http://h:1", "qwen3:8b=http://h:1"], aliases: ["gpt-4=library/llama3.2:latest", "fast=QWEN3:8b", "gpt-4:latest=llama3.2"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Aliases.Should().Equal(new AliasConfig("gpt-4", "llama3.2"), new AliasConfig("fast", "qwen3:8b"));
    }

    [Theory]
    [InlineData("", "ALIASES: empty entry (expected ALIAS=MODEL)")]
    [InlineData("gpt-4=", "ALIASES \"gpt-4=\": empty model name (expected ALIAS=MODEL)")]
    [InlineData("=llama3.2", "ALIASES \"=llama3.2\": empty alias (expected ALIAS=MODEL)")]
    [InlineData("gpt 4=llama3.2", "ALIASES \"gpt 4=llama3.2\": invalid alias name 'gpt 4'")]
    [InlineData("gpt-4=llama 3", "ALIASES \"gpt-4=llama 3\": invalid model name 'llama 3'")]
    [InlineData("gpt-4=mistral", "ALIASES \"gpt-4=mistral\": alias points to unknown model 'mistral'")]
    [InlineData("library/LLAMA3.2=qwen3", "ALIASES \"library/LLAMA3.2=qwen3\": alias shadows a configured model")]
    [InlineData("gpt-4:latest=qwen3", "ALIASES \"gpt-4:latest=qwen3\": alias 'gpt-4:latest' already points to 'llama3.2'")]
    public void TryParse_InvalidAlias_ReportsOneLine(string value, string message)
    {
        var input = Input(proxies: ["llama3.2=http://h:1", "qwen3=http://h:1"])
            with { Aliases = [new ConfigEntry("gpt-4=llama3.2", "ALIASES"), new ConfigEntry(value, "ALIASES")] };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(message);
    }

    [Fact]
    public void TryParse_SeveralProblems_ReportsEveryOneInOrder()
    {
        var input = new ConfigInput(
            new ConfigEntry("nowhere", "GOLLAMAS_LISTEN"),
            new ConfigEntry("loud", "--level"),
            [new ConfigEntry("llama3.2", "--proxy"), new ConfigEntry("qwen3=c9", "PROXIES")],
            [new ConfigEntry("c1=gpu", "--connection")],
            [new ConfigEntry("gpt-4=llama3.2", "--alias")],
            new ConfigEntry("sometimes", "--list-aliases"));

        ConfigParser.TryParse(input, out var options, out var errors).Should().BeFalse();

        options.Should().BeNull();
        errors.Select(e => e.ToString()).Should().Equal(
            "GOLLAMAS_LISTEN \"nowhere\": missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)",
            "--level \"loud\": unknown level (expected panic, fatal, error, warn, info, debug or trace)",
            "--connection \"c1=gpu\": 'gpu' is not an http(s) URL (expected ID=URL)",
            "--proxy \"llama3.2\": missing '=' (expected MODEL=URL or MODEL=CONNECTION_ID)",
            "PROXIES \"qwen3=c9\": unknown connection id 'c9'",
            "--alias \"gpt-4=llama3.2\": alias points to unknown model 'llama3.2'",
            "--list-aliases \"sometimes\": not a boolean (expected true/false, 1/0, yes/no or on/off)");
    }

    [Fact]
    public void TryParse_NoHealthConcurrencyOrRunningSettings_KeepsRecordDefaults()
    {
        var input = Input();

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Health.Should().Be(new HealthOptions { Interval = TimeSpan.FromSeconds(5), Timeout = TimeSpan.FromSeconds(2), FailuresBeforeDown = 3 });
        options.Concurrency.DefaultLimit.Should().Be(0);
        options.Concurrency.PerConnection.Should().BeEmpty();
        options.Concurrency.QueueLength.Should().Be(64);
        options.Concurrency.QueueTimeout.Should().Be(TimeSpan.FromSeconds(60));
        options.AllowRunning.Should().BeFalse();
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("5s", 5_000)]
    [InlineData(" 10m ", 600_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("300", 300_000)]
    [InlineData("1.5", 1_500)]
    [InlineData("1ms", 1)]
    [InlineData("1000h", 3_600_000_000)]
    public void TryParse_Durations_SetHealthAndQueueTimes(string value, long milliseconds)
    {
        var input = Input() with
        {
            HealthInterval = new ConfigEntry(value, "--health-interval"),
            HealthTimeout = new ConfigEntry(value, "--health-timeout"),
            QueueTimeout = new ConfigEntry(value, "--queue-timeout"),
        };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        var expected = TimeSpan.FromMilliseconds(milliseconds);
        options!.Health.Interval.Should().Be(expected);
        options.Health.Timeout.Should().Be(expected);
        options.Concurrency.QueueTimeout.Should().Be(expected);
    }

    [Theory]
    [InlineData("5x", "invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData("1d", "invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData("ms", "invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData("1h 30m", "invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData("", "invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData("9999999999h", "invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData("0", "out of range (expected 1ms to 1000h)")]
    [InlineData("0s", "out of range (expected 1ms to 1000h)")]
    [InlineData("-5s", "out of range (expected 1ms to 1000h)")]
    [InlineData("999us", "out of range (expected 1ms to 1000h)")]
    [InlineData("1000h1ms", "out of range (expected 1ms to 1000h)")]
    [InlineData("1001h", "out of range (expected 1ms to 1000h)")]
    public void TryParse_InvalidDuration_ReportsEachSource(string value, string reason)
    {
        var input = Input() with
        {
            HealthInterval = new ConfigEntry(value, "--health-interval"),
            HealthTimeout = new ConfigEntry(value, "GOLLAMAS_HEALTH_TIMEOUT"),
            QueueTimeout = new ConfigEntry(value, "--queue-timeout"),
        };

        ConfigParser.TryParse(input, out var options, out var errors).Should().BeFalse();

        options.Should().BeNull();
        errors.Should().Equal(
            new ConfigError("--health-interval", value, reason),
            new ConfigError("GOLLAMAS_HEALTH_TIMEOUT", value, reason),
            new ConfigError("--queue-timeout", value, reason));
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData(" 7 ", 7)]
    [InlineData("2147483647", int.MaxValue)]
    public void TryParse_HealthFailures_SetsFailuresBeforeDown(string value, int expected)
    {
        var input = Input() with { HealthFailures = new ConfigEntry(value, "--health-failures") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Health.FailuresBeforeDown.Should().Be(expected);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("+3")]
    [InlineData("1.5")]
    [InlineData("3x")]
    [InlineData("1,000")]
    [InlineData("2147483648")]
    [InlineData("")]
    public void TryParse_InvalidHealthFailures_ReportsError(string value)
    {
        var input = Input() with { HealthFailures = new ConfigEntry(value, "GOLLAMAS_HEALTH_FAILURES") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(new ConfigError("GOLLAMAS_HEALTH_FAILURES", value, "invalid failure count (expected a whole number of at least 1)"));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("64", 64)]
    [InlineData(" 1000 ", 1000)]
    public void TryParse_QueueLength_SetsQueueLength(string value, int expected)
    {
        var input = Input() with { QueueLength = new ConfigEntry(value, "--queue-length") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Concurrency.QueueLength.Should().Be(expected);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("1e3")]
    [InlineData("99999999999")]
    public void TryParse_InvalidQueueLength_ReportsError(string value)
    {
        var input = Input() with { QueueLength = new ConfigEntry(value, "--queue-length") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(new ConfigError("--queue-length", value, "invalid queue length (expected a whole number, 0 for no queue)"));
    }

    [Fact]
    public void TryParse_MaxConcurrency_SetsDefaultAndLimitsById()
    {
        var input = Input(proxies: ["a=c1", "b=c2", "c=http://gpu3:11434"], connections: ["c1=http://gpu1:11434", "c2=http://gpu2:11434"])
            with { MaxConcurrency = MaxConcurrency("4", "c1=2", " http://gpu3:11434/ = 3 ", "HTTP://GPU2:11434=1") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Concurrency.DefaultLimit.Should().Be(4);
        options.Concurrency.PerConnection.Should().BeEquivalentTo(new Dictionary<string, int>
        {
            ["c1"] = 2,
            ["c2"] = 1,
            ["http://gpu3:11434"] = 3,
        });
    }

    [Fact]
    public void TryParse_MaxConcurrencyZero_IsUnlimitedDefault()
    {
        var input = Input() with { MaxConcurrency = MaxConcurrency("0") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Concurrency.DefaultLimit.Should().Be(0);
        options.Concurrency.PerConnection.Should().BeEmpty();
    }

    [Fact]
    public void TryParse_MaxConcurrencyByUrlOfExplicitConnection_UsesItsId()
    {
        var input = Input(proxies: ["a=http://gpu1:11434"], connections: ["c1=http://gpu1:11434"])
            with { MaxConcurrency = MaxConcurrency("http://gpu1:11434=2") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Concurrency.PerConnection.Should().BeEquivalentTo(new Dictionary<string, int> { ["c1"] = 2 });
    }

    [Theory]
    [InlineData("", "--max-concurrency: empty entry (expected N or ID_OR_URL=N)")]
    [InlineData("many", "--max-concurrency \"many\": invalid limit (expected a whole number, 0 for unlimited)")]
    [InlineData("-1", "--max-concurrency \"-1\": invalid limit (expected a whole number, 0 for unlimited)")]
    [InlineData("8", "--max-concurrency \"8\": default limit already set to 4 (give ID_OR_URL=N for one connection)")]
    [InlineData("=2", "--max-concurrency \"=2\": empty connection id or URL (expected N or ID_OR_URL=N)")]
    [InlineData("c1=", "--max-concurrency \"c1=\": empty limit (expected N or ID_OR_URL=N)")]
    [InlineData("c1=0", "--max-concurrency \"c1=0\": invalid limit '0' (expected a whole number of at least 1)")]
    [InlineData("c1=x", "--max-concurrency \"c1=x\": invalid limit 'x' (expected a whole number of at least 1)")]
    [InlineData("c1=a=2", "--max-concurrency \"c1=a=2\": unknown connection id 'c1=a'")]
    [InlineData("c9=2", "--max-concurrency \"c9=2\": unknown connection id 'c9'")]
    [InlineData("http://gpu9:11434=2", "--max-concurrency \"http://gpu9:11434=2\": no connection has URL 'http://gpu9:11434'")]
    [InlineData("ftp://gpu1=2", "--max-concurrency \"ftp://gpu1=2\": 'ftp://gpu1' is not an http(s) URL (expected N or ID_OR_URL=N)")]
    [InlineData("http://gpu2:11434=2", "--max-concurrency \"http://gpu2:11434=2\": URL 'http://gpu2:11434' is shared by connections 'c2', 'c3' (give the connection id instead)")]
    [InlineData("http://GPU1:11434/=3", "--max-concurrency \"http://GPU1:11434/=3\": limit of connection 'c1' already set to 2")]
    [InlineData("c1=3", "--max-concurrency \"c1=3\": limit of connection 'c1' already set to 2")]
    public void TryParse_InvalidMaxConcurrency_ReportsOneLine(string value, string message)
    {
        var input = Input(proxies: ["a=c1", "b=c2"], connections: ["c1=http://gpu1:11434", "c2=http://gpu2:11434", "c3=http://gpu2:11434/"])
            with { MaxConcurrency = MaxConcurrency("4", "c1=2", value) };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(message);
    }

    [Fact]
    public void TryParse_MaxConcurrencyOfFailedConnection_ReportsOnlyTheConnection()
    {
        var input = Input(connections: ["c1=gpu1"]) with { MaxConcurrency = MaxConcurrency("c1=2") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal("--connections \"c1=gpu1\": 'gpu1' is not an http(s) URL (expected ID=URL)");
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("true", true)]
    [InlineData("1", true)]
    [InlineData("ON", true)]
    [InlineData("no", false)]
    public void TryParse_AllowRunningWord_ParsesBoolean(string value, bool expected)
    {
        var input = Input() with { AllowRunning = new ConfigEntry(value, "--allow-running") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.AllowRunning.Should().Be(expected);
    }

    [Fact]
    public void TryParse_AllowRunningNotBoolean_ReportsError()
    {
        var input = Input() with { AllowRunning = new ConfigEntry("sometimes", "GOLLAMAS_ALLOW_RUNNING") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal("GOLLAMAS_ALLOW_RUNNING \"sometimes\": not a boolean (expected true/false, 1/0, yes/no or on/off)");
    }

    [Fact]
    public void TryParse_SeveralHealthAndConcurrencyProblems_ReportsEveryOneInFlagOrder()
    {
        var input = Input() with
        {
            HealthInterval = new ConfigEntry("5x", "--health-interval"),
            HealthTimeout = new ConfigEntry("0", "--health-timeout"),
            HealthFailures = new ConfigEntry("0", "--health-failures"),
            MaxConcurrency = MaxConcurrency("c9=1"),
            QueueLength = new ConfigEntry("-1", "--queue-length"),
            QueueTimeout = new ConfigEntry("1d", "--queue-timeout"),
            AllowRunning = new ConfigEntry("maybe", "--allow-running"),
        };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(
            "--health-interval \"5x\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)",
            "--health-timeout \"0\": out of range (expected 1ms to 1000h)",
            "--health-failures \"0\": invalid failure count (expected a whole number of at least 1)",
            "--max-concurrency \"c9=1\": unknown connection id 'c9'",
            "--queue-length \"-1\": invalid queue length (expected a whole number, 0 for no queue)",
            "--queue-timeout \"1d\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)",
            "--allow-running \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)");
    }

    private static ConfigEntry[] MaxConcurrency(params string[] values) => [.. values.Select(v => new ConfigEntry(v, "--max-concurrency"))];

    private static ConfigInput Input(
        string listen = "localhost:11434",
        string level = "info",
        string[]? proxies = null,
        string[]? connections = null,
        string[]? aliases = null,
        string listAliases = "") =>
        new(
            new ConfigEntry(listen, "--listen"),
            new ConfigEntry(level, "--level"),
            [.. (proxies ?? [$"llama3.2={Url}"]).Select(p => new ConfigEntry(p, "--proxies"))],
            [.. (connections ?? []).Select(c => new ConfigEntry(c, "--connections"))],
            [.. (aliases ?? []).Select(a => new ConfigEntry(a, "--aliases"))],
            new ConfigEntry(listAliases, "--list-aliases"));
}
