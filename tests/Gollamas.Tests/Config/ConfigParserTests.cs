using Gollamas.Config;
using Gollamas.Tests.Infrastructure;
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
        options.Connections.Should().Equal(new ConnectionConfig("gpu1:11434", new Uri("http://gpu1:11434/"), IsExplicit: false));
        options.Models.Should().ContainSingle().Which.Should().BeEquivalentTo(new ModelConfig("llama3.2", ["gpu1:11434"]));
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
    [InlineData("m=http://h:1/?x=1", "--proxies \"m=http://h:1/?x=1\": Ollama's API is at the server's root: use http://h:1, not http://h:1/?x=1")]
    [InlineData("m=c3", "--proxies \"m=c3\": unknown connection id 'c3' (no --connection declares one; for the server of that host name, write http://c3:11434)")]
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
    [InlineData("c1=h:x", "CONNECTIONS \"c1=h:x\": 'h:x' is not an http(s) URL (expected ID=URL)")]
    [InlineData("c1=gpu1", "CONNECTIONS \"c1=gpu1\": 'gpu1' is not an http(s) URL (expected ID=URL)")]
    [InlineData("c1=file:///tmp/x", "CONNECTIONS \"c1=file:///tmp/x\": 'file:///tmp/x' is not an http(s) URL (expected ID=URL)")]
    [InlineData("c1=http://h:1/#top", "CONNECTIONS \"c1=http://h:1/#top\": Ollama's API is at the server's root: use http://h:1, not http://h:1/#top")]
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
    [InlineData("http://h:1/", "http://h:1/")]
    [InlineData("HTTP://H:80", "http://h/")]
    public void TryParse_ConnectionUrl_IsTheServersRoot(string url, string expected)
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
            new ConnectionConfig("gpu1:11434", new Uri("http://gpu1:11434/"), IsExplicit: false),
            new ConnectionConfig("gpu2:11434", new Uri("http://gpu2:11434/"), IsExplicit: false));
        options.Models.Select(m => (m.Name, string.Join(' ', m.ConnectionIds))).Should().Equal(
            ("a", "gpu1:11434"), ("b", "gpu1:11434"), ("c", "gpu2:11434"));
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
    public void TryParse_ImplicitConnections_NamedByHostPort_OrTheUrlWhenAnExplicitIdTakesIt()
    {
        var input = Input(
            proxies: ["a=http://gpu1", "b=https://GPU2:8443/", "c=http://gpu3:11434", "d=http://[::1]:11434"],
            connections: ["gpu3:11434=http://gpu9:1"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Select(c => c.Id).Should().Equal("gpu3:11434", "gpu1:80", "gpu2:8443", "http://gpu3:11434/", "[::1]:11434");
    }

    // An implicit connection's id is no id to name it by (only explicit ones are), but the same
    // text is its address as OLLAMA_HOST writes it: the same server, the same connection.
    [Fact]
    public void TryParse_HostPortOfAnImplicitConnection_IsThatConnectionByAddress()
    {
        var input = Input(proxies: ["a=http://gpu1:11434", "b=gpu1:11434"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Should().ContainSingle().Which.Id.Should().Be("gpu1:11434");
        options.Models.Select(m => m.ConnectionIds.Single()).Should().Equal("gpu1:11434", "gpu1:11434");
        options.Notes.Should().Equal("--proxies \"b=gpu1:11434\": read as http://gpu1:11434");
    }

    [Fact]
    public void TryParse_CredentialsInUrls_KeptApartFromTheUri()
    {
        var input = Input(proxies: ["a=http://admin:secret@gpu1:11434", "b=http://gpu1:11434", "c=c1"], connections: ["c1=https://u:p@gpu2/"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Select(c => (c.Id, c.BaseUri.AbsoluteUri, c.Credentials?.AuthorizationValue)).Should().Equal(
            ("c1", "https://gpu2/", "Basic dTpw"),
            ("gpu1:11434", "http://gpu1:11434/", "Basic YWRtaW46c2VjcmV0"));
        options.Models.Select(m => m.ConnectionIds.Single()).Should().Equal("gpu1:11434", "gpu1:11434", "c1");
    }

    [Theory]
    [InlineData("a=http://admin:one@gpu1:11434", "b=http://admin:two@gpu1:11434")]
    [InlineData("a=http://gpu1:11434", "b=http://admin:two@gpu1:11434")]
    public void TryParse_OneUrlWithOtherCredentials_ReportedWithoutThem(string first, string second)
    {
        var input = Input(proxies: [first, second]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(
            "--proxies \"b=http://***@gpu1:11434\": this URL is already declared with other credentials (give them the same everywhere, or name the connection with --connection)");
    }

    [Theory]
    [InlineData("--proxies", "a=http://admin:se cret@gpu1", "--proxies \"a=http://***@gpu1\": invalid character in the URL's user or password (percent-encode it)")]
    [InlineData("--proxies", "a=http://admin:50%@gpu1", "--proxies \"a=http://***@gpu1\": invalid percent escape in the URL's user or password")]
    [InlineData("--proxies", "NOT A MODEL=http://admin:secret@gpu1", "--proxies \"NOT A MODEL=http://***@gpu1\": invalid model name 'NOT A MODEL'")]
    [InlineData("--proxies", "a=ftp://admin:secret@gpu1", "--proxies \"a=ftp://***@gpu1\": 'ftp://***@gpu1' is not an http(s) URL (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData("--connections", "c1=http://admin:secret@gpu1:x", "--connections \"c1=http://***@gpu1:x\": 'http://***@gpu1:x' is not an http(s) URL (expected ID=URL)")]
    public void TryParse_ErrorOnAnEntryWithCredentials_PrintsNoneOfThem(string flag, string entry, string expected)
    {
        var input = flag == "--proxies" ? Input(proxies: [entry]) : Input(proxies: ["a=c1"], connections: [entry]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Contain(expected);
        errors.Select(e => e.ToString()).Should().NotContain(e => e.Contains("secret", StringComparison.Ordinal) || e.Contains("admin", StringComparison.Ordinal));
    }

    [Fact]
    public void TryParse_UnusedConnection_IsKept()
    {
        var input = Input(proxies: ["a=http://gpu1:1"], connections: ["spare=http://gpu9:1"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Select(c => c.Id).Should().Equal("spare", "gpu1:1");
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

        errors.Select(e => e.ToString()).Should().Equal("--proxy/--proxies: no model configured (expected MODEL=URL or MODEL=CONNECTION_ID, or --discover ID_OR_URL)");
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
    [InlineData("gpt-4=mistral", "ALIASES \"gpt-4=mistral\": alias points to unknown model 'mistral' (configure it, or let a connection's models be found with --discover)")]
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
            "--alias \"gpt-4=llama3.2\": alias points to unknown model 'llama3.2' (configure it, or let a connection's models be found with --discover)",
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
            ["gpu3:11434"] = 3,
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
            "--max-concurrency \"c9=1\": unknown connection id 'c9' (no --connection declares one; for the server of that host name, write http://c9:11434)",
            "--queue-length \"-1\": invalid queue length (expected a whole number, 0 for no queue)",
            "--queue-timeout \"1d\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)",
            "--allow-running \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)");
    }

    [Fact]
    public void TryParse_NoLimitSecurityOrLogSettings_KeepsRecordDefaults()
    {
        var input = Input();

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Limits.Should().Be(new LimitOptions());
        options.Security.Should().BeEquivalentTo(new SecurityOptions());
        options.Logging.Should().Be(new LogOptions());
    }

    [Theory]
    [InlineData("1KiB", 1_024L)]
    [InlineData(" 64MiB ", 67_108_864L)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("1048576", 1_048_576L)]
    [InlineData("2147483647", int.MaxValue)]
    public void TryParse_MaxBodySize_SetsMaxRequestBodyBytes(string value, long expected)
    {
        var input = Input() with { MaxBodySize = new ConfigEntry(value, "--max-body-size") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Limits.MaxRequestBodyBytes.Should().Be(expected);
    }

    [Theory]
    [InlineData("64M", "--max-body-size \"64M\": invalid size (expected e.g. 64MiB, 500MB, or a number of bytes)")]
    [InlineData("1.5GiB", "--max-body-size \"1.5GiB\": invalid size (expected e.g. 64MiB, 500MB, or a number of bytes)")]
    [InlineData("-1", "--max-body-size \"-1\": invalid size (expected e.g. 64MiB, 500MB, or a number of bytes)")]
    [InlineData("", "--max-body-size: invalid size (expected e.g. 64MiB, 500MB, or a number of bytes)")]
    [InlineData("1023", "--max-body-size \"1023\": out of range (expected 1KiB to 2147483647 bytes)")]
    [InlineData("1KB", "--max-body-size \"1KB\": out of range (expected 1KiB to 2147483647 bytes)")]
    [InlineData("0", "--max-body-size \"0\": out of range (expected 1KiB to 2147483647 bytes)")]
    [InlineData("2GiB", "--max-body-size \"2GiB\": out of range (expected 1KiB to 2147483647 bytes)")]
    [InlineData("2147483648", "--max-body-size \"2147483648\": out of range (expected 1KiB to 2147483647 bytes)")]
    public void TryParse_InvalidMaxBodySize_ReportsError(string value, string message)
    {
        var input = Input() with { MaxBodySize = new ConfigEntry(value, "--max-body-size") };

        ConfigParser.TryParse(input, out var options, out var errors).Should().BeFalse();

        options.Should().BeNull();
        errors.Select(e => e.ToString()).Should().Equal(message);
    }

    [Theory]
    [InlineData("1ms", 1)]
    [InlineData("10s", 10_000)]
    [InlineData(" 2m ", 120_000)]
    [InlineData("1000h", 3_600_000_000)]
    public void TryParse_LimitDurations_SetHeaderConnectIdleAndDrainTimes(string value, long milliseconds)
    {
        var input = Input() with
        {
            HeaderTimeout = new ConfigEntry(value, "--header-timeout"),
            ConnectTimeout = new ConfigEntry(value, "--connect-timeout"),
            IdleTimeout = new ConfigEntry(value, "--idle-timeout"),
            DrainTimeout = new ConfigEntry(value, "--drain-timeout"),
        };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        var expected = TimeSpan.FromMilliseconds(milliseconds);
        options!.Limits.RequestHeadersTimeout.Should().Be(expected);
        options.Limits.ConnectTimeout.Should().Be(expected);
        options.Limits.IdleTimeout.Should().Be(expected);
        options.Limits.DrainTimeout.Should().Be(expected);
    }

    [Theory]
    [InlineData("5x", "invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData("0", "out of range (expected 1ms to 1000h)")]
    [InlineData("0s", "out of range (expected 1ms to 1000h)")]
    [InlineData("-1s", "out of range (expected 1ms to 1000h)")]
    [InlineData("1001h", "out of range (expected 1ms to 1000h)")]
    public void TryParse_InvalidHeaderConnectOrDrainTimeout_ReportsEachSource(string value, string reason)
    {
        var input = Input() with
        {
            HeaderTimeout = new ConfigEntry(value, "--header-timeout"),
            ConnectTimeout = new ConfigEntry(value, "GOLLAMAS_CONNECT_TIMEOUT"),
            DrainTimeout = new ConfigEntry(value, "--drain-timeout"),
        };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(
            new ConfigError("--header-timeout", value, reason),
            new ConfigError("GOLLAMAS_CONNECT_TIMEOUT", value, reason),
            new ConfigError("--drain-timeout", value, reason));
    }

    [Theory]
    [InlineData("0")]
    [InlineData(" 0 ")]
    [InlineData("-0")]
    [InlineData("0s")]
    [InlineData("0ms")]
    [InlineData("0.0h")]
    public void TryParse_IdleTimeoutZero_MeansNone(string value)
    {
        var input = Input() with { IdleTimeout = new ConfigEntry(value, "--idle-timeout") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Limits.IdleTimeout.Should().Be(TimeSpan.Zero);
    }

    // 50ns truncates to zero ticks, yet was not written as zero: it is a mistake, not "none".
    [Theory]
    [InlineData("50ns", "--idle-timeout \"50ns\": out of range (expected 0 for none, or 1ms to 1000h)")]
    [InlineData("999us", "--idle-timeout \"999us\": out of range (expected 0 for none, or 1ms to 1000h)")]
    [InlineData("-1s", "--idle-timeout \"-1s\": out of range (expected 0 for none, or 1ms to 1000h)")]
    [InlineData("1001h", "--idle-timeout \"1001h\": out of range (expected 0 for none, or 1ms to 1000h)")]
    [InlineData("never", "--idle-timeout \"never\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    public void TryParse_InvalidIdleTimeout_ReportsError(string value, string message)
    {
        var input = Input() with { IdleTimeout = new ConfigEntry(value, "--idle-timeout") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(message);
    }

    [Fact]
    public void TryParse_NoMaxConnections_DefaultsTo4096()
    {
        ConfigParser.TryParse(Input(), out var options, out _).Should().BeTrue();

        options!.Limits.MaxConnections.Should().Be(4096, "idle connections cost memory: no limit is not the default");
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData(" 1000 ", 1000)]
    [InlineData("2147483647", int.MaxValue)]
    public void TryParse_MaxConnections_SetsMaxConnections(string value, int expected)
    {
        var input = Input() with { MaxConnections = new ConfigEntry(value, "--max-connections") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Limits.MaxConnections.Should().Be(expected);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1k")]
    [InlineData("unlimited")]
    [InlineData("2147483648")]
    public void TryParse_InvalidMaxConnections_ReportsError(string value)
    {
        var input = Input() with { MaxConnections = new ConfigEntry(value, "GOLLAMAS_MAX_CONNECTIONS") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(
            $"GOLLAMAS_MAX_CONNECTIONS \"{value}\": invalid connection limit (expected a whole number, 0 for no limit)");
    }

    [Fact]
    public void TryParse_TlsCertificateAndKey_KeepsBothPaths()
    {
        using var certificate = new TemporaryFile();
        using var key = new TemporaryFile();
        TestCertificates.WritePemPair(certificate.Path, key.Path);

        var input = Input() with
        {
            TlsCertificate = new ConfigEntry($" {certificate.Path} ", "--tls-cert"),
            TlsKey = new ConfigEntry(key.Path, "GOLLAMAS_TLS_KEY"),
        };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Limits.TlsCertificatePath.Should().Be(certificate.Path);
        options.Limits.TlsKeyPath.Should().Be(key.Path);
    }

    [Fact]
    public void TryParse_TlsFilesNotAPemPair_AConfigurationErrorNamingBoth()
    {
        using var certificate = new TemporaryFile();
        using var key = new TemporaryFile();
        File.WriteAllText(certificate.Path, "not a certificate");
        File.WriteAllText(key.Path, "not a key");
        var input = Input() with
        {
            TlsCertificate = new ConfigEntry(certificate.Path, "--tls-cert"),
            TlsKey = new ConfigEntry(key.Path, "GOLLAMAS_TLS_KEY"),
        };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(
            $"--tls-cert \"{certificate.Path}\": with GOLLAMAS_TLS_KEY \"{key.Path}\": not a PEM certificate and the PEM private key that goes with it");
    }

    [Fact]
    public void TryParse_TlsCertificateWithoutKey_NamesTheMissingKey()
    {
        using var certificate = new TemporaryFile();
        var input = Input() with { TlsCertificate = new ConfigEntry(certificate.Path, "GOLLAMAS_TLS_CERT") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(
            "--tls-key/GOLLAMAS_TLS_KEY: missing (GOLLAMAS_TLS_CERT is set; give both or neither)");
    }

    [Fact]
    public void TryParse_TlsKeyWithoutCertificate_NamesTheMissingCertificate()
    {
        using var key = new TemporaryFile();
        var input = Input() with { TlsKey = new ConfigEntry(key.Path, "--tls-key") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(
            "--tls-cert/GOLLAMAS_TLS_CERT: missing (--tls-key is set; give both or neither)");
    }

    [Theory]
    [InlineData("/nonexistent/gollamas/cert.pem", "no such file")]
    [InlineData(".", "is a directory (expected a file)")]
    [InlineData(" ", "empty path (expected a file)")]
    public void TryParse_TlsPathNotAReadableFile_ReportsBoth(string path, string reason)
    {
        var input = Input() with
        {
            TlsCertificate = new ConfigEntry(path, "--tls-cert"),
            TlsKey = new ConfigEntry(path, "GOLLAMAS_TLS_KEY"),
        };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(new ConfigError("--tls-cert", path, reason), new ConfigError("GOLLAMAS_TLS_KEY", path, reason));
    }

    [Fact]
    public void TryParse_BodyTempDir_KeepsTheDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("gollamas-config-");
        try
        {
            var input = Input() with { BodyTempDir = new ConfigEntry($" {directory.FullName} ", "--body-temp-dir") };

            ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

            options!.Limits.BodyTempDirectory.Should().Be(directory.FullName);
            directory.EnumerateFileSystemInfos().Should().BeEmpty("the probe file is removed");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void TryParse_NoBodyTempDir_TheSystemsTemporaryDirectory()
    {
        ConfigParser.TryParse(Input(), out var options, out _).Should().BeTrue();

        options!.Limits.BodyTempDirectory.Should().Be(Path.GetTempPath());
    }

    [Fact]
    public void TryParse_BodyTempDirThatDoesNotExistOrIsAFile_RefusedNamingWhy()
    {
        using var file = new TemporaryFile();
        var missing = Input() with { BodyTempDir = new ConfigEntry("/nonexistent/gollamas", "GOLLAMAS_BODY_TEMP_DIR") };
        var notADirectory = Input() with { BodyTempDir = new ConfigEntry(file.Path, "--body-temp-dir") };

        ConfigParser.TryParse(missing, out _, out var missingErrors).Should().BeFalse();
        ConfigParser.TryParse(notADirectory, out _, out var fileErrors).Should().BeFalse();

        missingErrors.Select(e => e.ToString()).Should().Equal("GOLLAMAS_BODY_TEMP_DIR \"/nonexistent/gollamas\": no such directory");
        fileErrors.Select(e => e.ToString()).Should().Equal($"--body-temp-dir \"{file.Path}\": not a directory");
    }

    [Fact]
    public void TryParse_ApiKeys_TrimmedInOrder()
    {
        var input = Input() with { ApiKeys = ApiKeys(" k1 ", "k-2_x.Y", "k1") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Security.ApiKeys.Should().Equal("k1", "k-2_x.Y", "k1");
    }

    // The key is a secret: the error names its position and leaves its value out.
    [Theory]
    [InlineData("", "--api-key #2: empty key")]
    [InlineData("  ", "--api-key #2: empty key")]
    [InlineData("sec ret", "--api-key #2: a key cannot contain white space or control characters")]
    [InlineData("sec\tret", "--api-key #2: a key cannot contain white space or control characters")]
    [InlineData("sec\u00A0ret", "--api-key #2: a key cannot contain white space or control characters")]
    [InlineData("sec\u0000ret", "--api-key #2: a key cannot contain white space or control characters")]
    public void TryParse_InvalidApiKey_NamesItByPositionWithoutItsValue(string key, string message)
    {
        var input = Input() with { ApiKeys = ApiKeys("k1", key, "k3") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(message);
        errors.Single().Value.Should().BeEmpty();
    }

    [Fact]
    public void TryParse_AdminListenWithoutAnAdminKey_ReportsError()
    {
        var input = (Input() with { ApiKeys = ApiKeys("k1") }).With(Settings.AdminListen, [new ConfigEntry("127.0.0.1:11435", "--admin-listen")]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal("--admin-key/GOLLAMAS_ADMIN_KEYS: missing (--admin-listen is set; give an admin key or an admin keys file)");
    }

    [Fact]
    public void TryParse_AdminKeysAndListen_KeptApartFromTheApiKeys()
    {
        var input = (Input() with { ApiKeys = ApiKeys("k1") })
            .With(Settings.AdminKeys, [new ConfigEntry("ops=a1", "--admin-key")])
            .With(Settings.AdminListen, [new ConfigEntry("127.0.0.1:11435", "--admin-listen")]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Security.ApiKeys.Should().Equal("k1");
        options.Security.AdminKeys.Should().Equal("ops=a1");
        options.Security.AdminListen.Should().Be(new ListenAddress("127.0.0.1", 11435));
    }

    [Fact]
    public void TryParse_KeyPolicies_OnePerNameFromTheThreeRows()
    {
        var input = Input()
            .With(Settings.KeyModels, [new ConfigEntry("team-a=llama3.2", "--key-models"), new ConfigEntry("team-a=qwen3:8b", "--key-models")])
            .With(Settings.KeyConcurrency, [new ConfigEntry("team-a=4", "--key-concurrency"), new ConfigEntry("key2=1", "--key-concurrency")])
            .With(Settings.KeyRate, [new ConfigEntry("key2=60", "--key-rate")]);

        ConfigParser.TryParse(input, out var options, out var errors).Should().BeTrue(string.Join("; ", errors));

        options!.Security.KeyPolicies.Should().BeEquivalentTo(new[]
        {
            new KeyPolicy("team-a") { Models = ["llama3.2", "qwen3:8b"], Concurrency = 4 },
            new KeyPolicy("key2") { Concurrency = 1, PerMinute = 60 },
        }, static o => o.WithStrictOrdering());
    }

    [Theory]
    [InlineData("--key-rate", "team-a", "--key-rate \"team-a\": expected NAME=N")]
    [InlineData("--key-rate", "team-a=0", "--key-rate \"team-a=0\": invalid number of requests per minute '0' (expected a whole number of at least 1)")]
    [InlineData("--key-concurrency", "1a=2", "--key-concurrency \"1a=2\": invalid key name '1a' (a letter, then letters, digits, '.', '_' or '-')")]
    [InlineData("--key-models", "team-a=", "--key-models \"team-a=\": expected NAME=MODEL")]
    public void TryParse_InvalidKeyPolicy_ReportsIt(string flag, string value, string message)
    {
        var row = Settings.All.Single(s => s.Flag == flag);
        var input = Input().With(row, [new ConfigEntry(value, flag)]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(message);
    }

    [Fact]
    public void TryParse_ApiKeysFile_KeepsThePath()
    {
        using var file = new TemporaryFile();
        var input = Input() with { ApiKeysFile = new ConfigEntry(file.Path, "--api-keys-file") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Security.ApiKeysFile.Should().Be(file.Path);
    }

    [Fact]
    public void TryParse_ApiKeysFileMissing_ReportsError()
    {
        var input = Input() with { ApiKeysFile = new ConfigEntry("/nonexistent/gollamas/keys", "GOLLAMAS_API_KEYS_FILE") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal("GOLLAMAS_API_KEYS_FILE \"/nonexistent/gollamas/keys\": no such file");
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("on", true)]
    [InlineData("", false)]
    [InlineData("0", false)]
    public void TryParse_ForwardAuthorizationWord_ParsesBoolean(string value, bool expected)
    {
        var input = Input() with { ForwardAuthorization = new ConfigEntry(value, "--forward-authorization") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Security.ForwardAuthorization.Should().Be(expected);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("false", false)]
    [InlineData("off", false)]
    public void TryParse_AccessLogWord_ParsesBoolean(string value, bool expected)
    {
        var input = Input() with { AccessLog = new ConfigEntry(value, "--access-log") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Logging.AccessLog.Should().Be(expected);
    }

    [Theory]
    [InlineData("simple", "simple")]
    [InlineData("json", "json")]
    [InlineData(" JSON ", "json")]
    [InlineData("Simple", "simple")]
    public void TryParse_LogFormat_StoredInLowerCase(string value, string expected)
    {
        var input = Input() with { LogFormat = new ConfigEntry(value, "--log-format") };

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Logging.Format.Should().Be(expected);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("logfmt")]
    [InlineData("")]
    public void TryParse_UnknownLogFormat_ReportsTheTwoWords(string value)
    {
        var input = Input() with { LogFormat = new ConfigEntry(value, "GOLLAMAS_LOG_FORMAT") };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(new ConfigError("GOLLAMAS_LOG_FORMAT", value, "unknown format (expected simple or json)"));
    }

    [Fact]
    public void TryParse_SeveralLimitSecurityAndLogProblems_ReportsEveryOneInFlagOrder()
    {
        var input = Input() with
        {
            MaxBodySize = new ConfigEntry("1", "--max-body-size"),
            HeaderTimeout = new ConfigEntry("0", "--header-timeout"),
            ConnectTimeout = new ConfigEntry("5x", "--connect-timeout"),
            IdleTimeout = new ConfigEntry("-1s", "--idle-timeout"),
            MaxConnections = new ConfigEntry("-1", "--max-connections"),
            DrainTimeout = new ConfigEntry("1d", "--drain-timeout"),
            TlsCertificate = new ConfigEntry("/nonexistent/cert.pem", "--tls-cert"),
            ApiKeys = ApiKeys(""),
            ApiKeysFile = new ConfigEntry("/nonexistent/keys", "--api-keys-file"),
            ForwardAuthorization = new ConfigEntry("maybe", "--forward-authorization"),
            AccessLog = new ConfigEntry("maybe", "--access-log"),
            LogFormat = new ConfigEntry("xml", "--log-format"),
        };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(
            "--max-body-size \"1\": out of range (expected 1KiB to 2147483647 bytes)",
            "--header-timeout \"0\": out of range (expected 1ms to 1000h)",
            "--connect-timeout \"5x\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)",
            "--idle-timeout \"-1s\": out of range (expected 0 for none, or 1ms to 1000h)",
            "--max-connections \"-1\": invalid connection limit (expected a whole number, 0 for no limit)",
            "--drain-timeout \"1d\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)",
            "--tls-cert \"/nonexistent/cert.pem\": no such file",
            "--tls-key/GOLLAMAS_TLS_KEY: missing (--tls-cert is set; give both or neither)",
            "--api-key #1: empty key",
            "--api-keys-file \"/nonexistent/keys\": no such file",
            "--forward-authorization \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)",
            "--access-log \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)",
            "--log-format \"xml\": unknown format (expected simple or json)");
    }

    [Fact]
    public void TryParse_LifecycleAndOtherProblems_ReportsTheLifecycleOnesLast()
    {
        var input = Input() with
        {
            KeepAlive = [new ConfigEntry("soon", "--keep-alive")],
            PingInterval = new ConfigEntry("5x", "--ping-interval"),
            MaxBodySize = new ConfigEntry("1", "--max-body-size"),
            MetricsListen = new ConfigEntry("nowhere", "--metrics-listen"),
        };

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(e => e.ToString()).Should().Equal(
            "--max-body-size \"1\": out of range (expected 1KiB to 2147483647 bytes)",
            "--metrics-listen \"nowhere\": missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)",
            "--ping-interval \"5x\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)",
            "--keep-alive \"soon\": invalid duration (expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)");
    }

    private static ConfigEntry[] ApiKeys(params string[] values) => [.. values.Select(v => new ConfigEntry(v, "--api-key"))];

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

    /// <summary>An empty file that exists for one test.</summary>
    private sealed class TemporaryFile : IDisposable
    {
        public string Path { get; } = System.IO.Path.GetTempFileName();

        public void Dispose() => File.Delete(Path);
    }
}
