using System.CommandLine;
using Gollamas.Cli;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Hosting;
using Gollamas.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Gollamas.Tests.Cli;

public class GollamasCommandTests
{
    private const string Proxy = "llama3.2=http://gpu1:11434";

    [Fact]
    public async Task Invoke_OneProxy_RunsServerWithDefaults()
    {
        var run = await InvokeAsync(["--proxy", Proxy]);

        run.ExitCode.Should().Be(0);
        run.Error.Should().BeEmpty();
        run.Output.Should().BeEmpty();
        run.Options!.Listen.Should().Be(new ListenAddress("localhost", 11434));
        run.Options.MinimumLevel.Should().Be(LogLevel.Information);
        run.Options.Models.Should().ContainSingle().Which.Should().BeEquivalentTo(new ModelConfig("llama3.2", ["gpu1:11434"]));
        run.Options.Connections.Should().Equal(new ConnectionConfig("gpu1:11434", new Uri("http://gpu1:11434/"), IsExplicit: false));
        run.Options.Aliases.Should().BeEmpty();
        run.Options.ListAliases.Should().BeFalse();
    }

    [Fact]
    public async Task Invoke_EqualsSyntax_SplitsAtFirstEqualsOnly()
    {
        var run = await InvokeAsync(["--proxy=llama3.2=c1", "--connection=c1=http://gpu1:11434", "--listen=:1"]);

        run.ExitCode.Should().Be(0);
        run.Options!.Models.Should().ContainSingle().Which.Should().BeEquivalentTo(new ModelConfig("llama3.2", ["c1"]));
        run.Options.Connections.Should().Equal(new ConnectionConfig("c1", new Uri("http://gpu1:11434/"), IsExplicit: true));
        run.Options.Listen.Should().Be(new ListenAddress("", 1));
    }

    [Fact]
    public async Task Invoke_SecondValueAfterProxy_IsRejected()
    {
        var run = await InvokeAsync(["--proxy", "a=http://h:1", "b=http://h:2"]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().StartWith("gollamas: Unrecognized command or argument 'b=http://h:2'.");
    }

    [Fact]
    public async Task Invoke_ServerExitCode_IsReturned()
    {
        var run = await InvokeAsync(["--proxy", Proxy], serverExitCode: ExitCodes.BindFailed);

        run.ExitCode.Should().Be(ExitCodes.BindFailed);
    }

    [Theory]
    [InlineData("--listen")]
    [InlineData("-a")]
    [InlineData("--addr")]
    [InlineData("--address")]
    public async Task Invoke_ListenFlagOrAlias_SetsListen(string flag)
    {
        var run = await InvokeAsync([flag, "[::1]:8080", "--proxy", Proxy]);

        run.ExitCode.Should().Be(0);
        run.Options!.Listen.Should().Be(new ListenAddress("::1", 8080));
    }

    [Theory]
    [InlineData("--level")]
    [InlineData("--error-level")]
    public async Task Invoke_LevelFlagOrAlias_SetsMinimumLevel(string flag)
    {
        var run = await InvokeAsync([flag, "debug", "--proxy", Proxy]);

        run.ExitCode.Should().Be(0);
        run.Options!.MinimumLevel.Should().Be(LogLevel.Debug);
    }

    // Each row: command-line value (null = absent), GOLLAMAS_X, X -> the value that wins.
    [Theory]
    [InlineData(null, null, null, "localhost:11434")]
    [InlineData(null, null, ":2", ":2")]
    [InlineData(null, ":1", ":2", ":1")]
    [InlineData(null, "", ":2", ":2")]
    [InlineData(null, "  ", "", "localhost:11434")]
    [InlineData(":3", ":1", ":2", ":3")]
    public async Task Invoke_ListenSources_FlagThenPrefixedThenLegacyThenDefault(string? flag, string? prefixed, string? legacy, string expected)
    {
        var env = Env(("GOLLAMAS_LISTEN", prefixed), ("LISTEN", legacy));
        string[] args = flag is null ? ["--proxy", Proxy] : ["--listen", flag, "--proxy", Proxy];

        var run = await InvokeAsync(args, env);

        run.ExitCode.Should().Be(0);
        run.Options!.Listen.ToString().Should().Be(expected);
    }

    [Theory]
    [InlineData(null, null, null, LogLevel.Information)]
    [InlineData(null, null, "trace", LogLevel.Trace)]
    [InlineData(null, "warn", "trace", LogLevel.Warning)]
    [InlineData(null, "", "trace", LogLevel.Trace)]
    [InlineData("error", "warn", "trace", LogLevel.Error)]
    public async Task Invoke_LevelSources_FlagThenPrefixedThenLegacyThenDefault(string? flag, string? prefixed, string? legacy, LogLevel expected)
    {
        var env = Env(("GOLLAMAS_LEVEL", prefixed), ("LEVEL", legacy));
        string[] args = flag is null ? ["--proxy", Proxy] : ["--level", flag, "--proxy", Proxy];

        var run = await InvokeAsync(args, env);

        run.ExitCode.Should().Be(0);
        run.Options!.MinimumLevel.Should().Be(expected);
    }

    [Fact]
    public async Task Invoke_SingularAndPluralProxies_CombinesSingularFirst()
    {
        var run = await InvokeAsync(["--proxies", "c=http://h:1, d=http://h:1", "--proxy", "a=http://h:1", "--proxy", "b=http://h:1,e=http://h:1"]);

        run.ExitCode.Should().Be(0);
        run.Options!.Models.Select(m => m.Name).Should().Equal("a", "b", "e", "c", "d");
    }

    [Theory]
    [InlineData(null, null, null, "a")]
    [InlineData(null, null, "l=http://h:1", "a l")]
    [InlineData(null, "g=http://h:1", "l=http://h:1", "a g")]
    [InlineData(null, "", "l=http://h:1", "a l")]
    [InlineData("f=http://h:1,f2=http://h:1", "g=http://h:1", "l=http://h:1", "a f f2")]
    public async Task Invoke_ProxiesSources_SingularPlusFlagOrPrefixedOrLegacy(string? flag, string? prefixed, string? legacy, string expected)
    {
        var env = Env(("GOLLAMAS_PROXIES", prefixed), ("PROXIES", legacy));
        string[] args = flag is null ? ["--proxy", "a=http://h:1"] : ["--proxy", "a=http://h:1", "--proxies", flag];

        var run = await InvokeAsync(args, env);

        run.ExitCode.Should().Be(0);
        string.Join(' ', run.Options!.Models.Select(m => m.Name)).Should().Be(expected);
    }

    [Fact]
    public async Task Invoke_ProxiesOnlyFromEnvironment_Runs()
    {
        var run = await InvokeAsync([], Env(("PROXIES", "llama3.2=http://h:1,qwen3=http://h:2")));

        run.ExitCode.Should().Be(0);
        run.Options!.Models.Select(m => m.Name).Should().Equal("llama3.2", "qwen3");
    }

    [Theory]
    [InlineData(null, null, null, "c0")]
    [InlineData(null, null, "l=http://h:9", "c0 l")]
    [InlineData(null, "g=http://h:8", "l=http://h:9", "c0 g")]
    [InlineData("f=http://h:7, f2=http://h:6", "g=http://h:8", "l=http://h:9", "c0 f f2")]
    public async Task Invoke_ConnectionsSources_SingularPlusFlagOrPrefixedOrLegacy(string? flag, string? prefixed, string? legacy, string expected)
    {
        var env = Env(("GOLLAMAS_CONNECTIONS", prefixed), ("CONNECTIONS", legacy));
        string[] args = flag is null
            ? ["--connection", "c0=http://h:1", "--proxy", "m=c0"]
            : ["--connection", "c0=http://h:1", "--connections", flag, "--proxy", "m=c0"];

        var run = await InvokeAsync(args, env);

        run.ExitCode.Should().Be(0);
        string.Join(' ', run.Options!.Connections.Select(c => c.Id)).Should().Be(expected);
    }

    [Theory]
    [InlineData(null, null, null, "a0")]
    [InlineData(null, null, "l=m", "a0 l")]
    [InlineData(null, "g=m", "l=m", "a0 g")]
    [InlineData("f=m,f2=m", "g=m", "l=m", "a0 f f2")]
    public async Task Invoke_AliasesSources_SingularPlusFlagOrPrefixedOrLegacy(string? flag, string? prefixed, string? legacy, string expected)
    {
        var env = Env(("GOLLAMAS_ALIASES", prefixed), ("ALIASES", legacy));
        string[] args = flag is null
            ? ["--alias", "a0=m", "--proxy", "m=http://h:1"]
            : ["--alias", "a0=m", "--aliases", flag, "--proxy", "m=http://h:1"];

        var run = await InvokeAsync(args, env);

        run.ExitCode.Should().Be(0);
        string.Join(' ', run.Options!.Aliases.Select(a => a.Alias)).Should().Be(expected);
    }

    [Theory]
    [InlineData(new string[0], null, null, false)]
    [InlineData(new[] { "--list-aliases" }, null, null, true)]
    [InlineData(new[] { "--list-aliases", "true" }, null, null, true)]
    [InlineData(new[] { "--list-aliases", "false" }, "true", "true", false)]
    [InlineData(new string[0], "yes", null, true)]
    [InlineData(new string[0], "off", "on", false)]
    [InlineData(new string[0], null, "1", true)]
    [InlineData(new string[0], "", "1", true)]
    public async Task Invoke_ListAliasesSources_FlagThenPrefixedThenLegacy(string[] flag, string? prefixed, string? legacy, bool expected)
    {
        var env = Env(("GOLLAMAS_LIST_ALIASES", prefixed), ("LIST_ALIASES", legacy));

        var run = await InvokeAsync([.. flag, "--proxy", Proxy], env);

        run.ExitCode.Should().Be(0);
        run.Options!.ListAliases.Should().Be(expected);
    }

    [Theory]
    [InlineData(new string[0], null, null, new string[0])]
    [InlineData(new[] { "--origins", "https://a.example,chrome-extension://*" }, "https://b.example", "https://c.example", new[] { "https://a.example", "chrome-extension://*" })]
    [InlineData(new string[0], "https://b.example", "https://c.example", new[] { "https://b.example" })]
    [InlineData(new string[0], null, " \"https://c.example, *\" ", new[] { "https://c.example", "*" })]
    public async Task Invoke_OriginsSources_FlagThenPrefixedThenOllamasVariable(string[] flag, string? prefixed, string? ollama, string[] expected)
    {
        var env = Env(("GOLLAMAS_ORIGINS", prefixed), ("OLLAMA_ORIGINS", ollama));

        var run = await InvokeAsync([.. flag, "--proxy", Proxy], env);

        run.ExitCode.Should().Be(0);
        run.Options!.Origins.Should().Equal(expected);
    }

    [Fact]
    public async Task Invoke_NoHealthOrConcurrencySettings_UsesTheRecordDefaults()
    {
        var run = await InvokeAsync(["--proxy", Proxy]);

        run.ExitCode.Should().Be(0);
        run.Options!.Health.Should().Be(new HealthOptions());
        run.Options.Concurrency.Should().BeEquivalentTo(new ConcurrencyOptions());
        run.Options.AllowRunning.Should().BeFalse();
    }

    // Each row: flag, its variable, command-line value (null = absent), variable value -> the
    // setting as read back by Setting(); blank variables count as unset.
    [Theory]
    [InlineData("--health-interval", "GOLLAMAS_HEALTH_INTERVAL", null, null, "00:00:05")]
    [InlineData("--health-interval", "GOLLAMAS_HEALTH_INTERVAL", null, "250ms", "00:00:00.2500000")]
    [InlineData("--health-interval", "GOLLAMAS_HEALTH_INTERVAL", null, " ", "00:00:05")]
    [InlineData("--health-interval", "GOLLAMAS_HEALTH_INTERVAL", "1h30m", "250ms", "01:30:00")]
    [InlineData("--health-timeout", "GOLLAMAS_HEALTH_TIMEOUT", null, null, "00:00:02")]
    [InlineData("--health-timeout", "GOLLAMAS_HEALTH_TIMEOUT", null, "1.5", "00:00:01.5000000")]
    [InlineData("--health-timeout", "GOLLAMAS_HEALTH_TIMEOUT", "500ms", "1.5", "00:00:00.5000000")]
    [InlineData("--health-failures", "GOLLAMAS_HEALTH_FAILURES", null, null, "3")]
    [InlineData("--health-failures", "GOLLAMAS_HEALTH_FAILURES", null, "5", "5")]
    [InlineData("--health-failures", "GOLLAMAS_HEALTH_FAILURES", "1", "5", "1")]
    [InlineData("--queue-length", "GOLLAMAS_QUEUE_LENGTH", null, null, "64")]
    [InlineData("--queue-length", "GOLLAMAS_QUEUE_LENGTH", null, "0", "0")]
    [InlineData("--queue-length", "GOLLAMAS_QUEUE_LENGTH", "16", "0", "16")]
    [InlineData("--queue-timeout", "GOLLAMAS_QUEUE_TIMEOUT", null, null, "00:01:00")]
    [InlineData("--queue-timeout", "GOLLAMAS_QUEUE_TIMEOUT", null, "300", "00:05:00")]
    [InlineData("--queue-timeout", "GOLLAMAS_QUEUE_TIMEOUT", "2m", "300", "00:02:00")]
    public async Task Invoke_HealthAndQueueSources_FlagThenVariableThenDefault(string flag, string variable, string? flagValue, string? variableValue, string expected)
    {
        string[] args = flagValue is null ? ["--proxy", Proxy] : [flag, flagValue, "--proxy", Proxy];

        var run = await InvokeAsync(args, Env((variable, variableValue)));

        run.ExitCode.Should().Be(0);
        Setting(run.Options!, flag).Should().Be(expected);
    }

    // These settings are new in this proxy: no unprefixed variable of the same name is read.
    [Theory]
    [InlineData("HEALTH_INTERVAL", "9s")]
    [InlineData("HEALTH_TIMEOUT", "9s")]
    [InlineData("HEALTH_FAILURES", "9")]
    [InlineData("MAX_CONCURRENCY", "9")]
    [InlineData("QUEUE_LENGTH", "9")]
    [InlineData("QUEUE_TIMEOUT", "9s")]
    [InlineData("ALLOW_RUNNING", "true")]
    public async Task Invoke_UnprefixedNewVariable_IsIgnored(string variable, string value)
    {
        var run = await InvokeAsync(["--proxy", Proxy], Env((variable, value)));

        run.ExitCode.Should().Be(0);
        run.Options!.Health.Should().Be(new HealthOptions());
        run.Options.Concurrency.Should().BeEquivalentTo(new ConcurrencyOptions());
        run.Options.AllowRunning.Should().BeFalse();
    }

    [Fact]
    public async Task Invoke_MaxConcurrencyFlags_RepeatedAndCommaListsCombine()
    {
        var run = await InvokeAsync([
            "--connection", "c1=http://gpu1:11434", "--proxy", "a=c1", "--proxy", "b=http://gpu2:11434",
            "--max-concurrency", "4", "--max-concurrency", "c1=2, http://GPU2:11434/=3"]);

        run.ExitCode.Should().Be(0);
        run.Options!.Concurrency.DefaultLimit.Should().Be(4);
        run.Options.Concurrency.PerConnection.Should().BeEquivalentTo(new Dictionary<string, int> { ["c1"] = 2, ["gpu2:11434"] = 3 });
    }

    [Theory]
    [InlineData(new string[0], null, 0, "")]
    [InlineData(new string[0], "2,c1=1", 2, "c1=1")]
    [InlineData(new string[0], " ", 0, "")]
    [InlineData(new[] { "--max-concurrency", "c1=5" }, "2,c1=1", 0, "c1=5")]
    [InlineData(new[] { "--max-concurrency", "3", "--max-concurrency", "c1=5" }, "2", 3, "c1=5")]
    public async Task Invoke_MaxConcurrencySources_FlagsReplaceTheVariable(string[] flags, string? variable, int defaultLimit, string perConnection)
    {
        var env = Env(("GOLLAMAS_MAX_CONCURRENCY", variable));

        var run = await InvokeAsync([.. flags, "--connection", "c1=http://gpu1:11434", "--proxy", "a=c1"], env);

        run.ExitCode.Should().Be(0);
        run.Options!.Concurrency.DefaultLimit.Should().Be(defaultLimit);
        string.Join(',', run.Options.Concurrency.PerConnection.Select(p => $"{p.Key}={p.Value}")).Should().Be(perConnection);
    }

    [Theory]
    [InlineData(new string[0], null, false)]
    [InlineData(new[] { "--allow-running" }, null, true)]
    [InlineData(new[] { "--allow-running", "true" }, "false", true)]
    [InlineData(new[] { "--allow-running", "false" }, "true", false)]
    [InlineData(new string[0], "yes", true)]
    [InlineData(new string[0], "0", false)]
    [InlineData(new string[0], "", false)]
    public async Task Invoke_AllowRunningSources_FlagThenVariable(string[] flag, string? variable, bool expected)
    {
        var run = await InvokeAsync([.. flag, "--proxy", Proxy], Env(("GOLLAMAS_ALLOW_RUNNING", variable)));

        run.ExitCode.Should().Be(0);
        run.Options!.AllowRunning.Should().Be(expected);
    }

    [Fact]
    public async Task Invoke_NoLimitSecurityOrLogSettings_UsesTheRecordDefaults()
    {
        var run = await InvokeAsync(["--proxy", Proxy]);

        run.ExitCode.Should().Be(0);
        run.Options!.Limits.Should().Be(new LimitOptions());
        run.Options.Security.Should().BeEquivalentTo(new SecurityOptions());
        run.Options.Logging.Should().Be(new LogOptions());
    }

    // Each row: flag, its variable, command-line value (null = absent), variable value -> the
    // setting as read back by Setting(); blank variables count as unset.
    [Theory]
    [InlineData("--max-body-size", "GOLLAMAS_MAX_BODY_SIZE", null, null, "268435456")]
    [InlineData("--max-body-size", "GOLLAMAS_MAX_BODY_SIZE", null, "500MB", "500000000")]
    [InlineData("--max-body-size", "GOLLAMAS_MAX_BODY_SIZE", null, " ", "268435456")]
    [InlineData("--max-body-size", "GOLLAMAS_MAX_BODY_SIZE", "64mib", "500MB", "67108864")]
    [InlineData("--header-timeout", "GOLLAMAS_HEADER_TIMEOUT", null, null, "00:00:30")]
    [InlineData("--header-timeout", "GOLLAMAS_HEADER_TIMEOUT", null, "10", "00:00:10")]
    [InlineData("--header-timeout", "GOLLAMAS_HEADER_TIMEOUT", "500ms", "10", "00:00:00.5000000")]
    [InlineData("--connect-timeout", "GOLLAMAS_CONNECT_TIMEOUT", null, null, "00:00:05")]
    [InlineData("--connect-timeout", "GOLLAMAS_CONNECT_TIMEOUT", null, "2s", "00:00:02")]
    [InlineData("--connect-timeout", "GOLLAMAS_CONNECT_TIMEOUT", "1m", "2s", "00:01:00")]
    [InlineData("--idle-timeout", "GOLLAMAS_IDLE_TIMEOUT", null, null, "00:10:00")]
    [InlineData("--idle-timeout", "GOLLAMAS_IDLE_TIMEOUT", null, "0", "00:00:00")]
    [InlineData("--idle-timeout", "GOLLAMAS_IDLE_TIMEOUT", "30m", "0", "00:30:00")]
    [InlineData("--idle-timeout", "GOLLAMAS_IDLE_TIMEOUT", "0", "30m", "00:00:00")]
    [InlineData("--max-connections", "GOLLAMAS_MAX_CONNECTIONS", null, null, "4096")]
    [InlineData("--max-connections", "GOLLAMAS_MAX_CONNECTIONS", null, "100", "100")]
    [InlineData("--max-connections", "GOLLAMAS_MAX_CONNECTIONS", "0", "100", "0")]
    [InlineData("--drain-timeout", "GOLLAMAS_DRAIN_TIMEOUT", null, null, "00:00:30")]
    [InlineData("--drain-timeout", "GOLLAMAS_DRAIN_TIMEOUT", null, "2m", "00:02:00")]
    [InlineData("--drain-timeout", "GOLLAMAS_DRAIN_TIMEOUT", "1h", "2m", "01:00:00")]
    [InlineData("--log-format", "GOLLAMAS_LOG_FORMAT", null, null, "simple")]
    [InlineData("--log-format", "GOLLAMAS_LOG_FORMAT", null, "JSON", "json")]
    [InlineData("--log-format", "GOLLAMAS_LOG_FORMAT", "simple", "json", "simple")]
    public async Task Invoke_LimitAndLogSources_FlagThenVariableThenDefault(string flag, string variable, string? flagValue, string? variableValue, string expected)
    {
        string[] args = flagValue is null ? ["--proxy", Proxy] : [flag, flagValue, "--proxy", Proxy];

        var run = await InvokeAsync(args, Env((variable, variableValue)));

        run.ExitCode.Should().Be(0);
        Setting(run.Options!, flag).Should().Be(expected);
    }

    [Theory]
    [InlineData("MAX_BODY_SIZE", "64MiB")]
    [InlineData("HEADER_TIMEOUT", "9s")]
    [InlineData("CONNECT_TIMEOUT", "9s")]
    [InlineData("IDLE_TIMEOUT", "9s")]
    [InlineData("MAX_CONNECTIONS", "9")]
    [InlineData("DRAIN_TIMEOUT", "9s")]
    [InlineData("TLS_CERT", "/etc/hostname")]
    [InlineData("TLS_KEY", "/etc/hostname")]
    [InlineData("API_KEYS", "k1")]
    [InlineData("API_KEYS_FILE", "/etc/hostname")]
    [InlineData("FORWARD_AUTHORIZATION", "true")]
    [InlineData("ACCESS_LOG", "false")]
    [InlineData("LOG_FORMAT", "json")]
    public async Task Invoke_UnprefixedLimitSecurityOrLogVariable_IsIgnored(string variable, string value)
    {
        var run = await InvokeAsync(["--proxy", Proxy], Env((variable, value)));

        run.ExitCode.Should().Be(0);
        run.Options!.Limits.Should().Be(new LimitOptions());
        run.Options.Security.Should().BeEquivalentTo(new SecurityOptions());
        run.Options.Logging.Should().Be(new LogOptions());
    }

    [Fact]
    public async Task Invoke_TlsFlags_SetCertificateAndKeyPaths()
    {
        using var certificate = new TemporaryFile();
        using var key = new TemporaryFile();
        TestCertificates.WritePemPair(certificate.Path, key.Path);

        var run = await InvokeAsync(["--tls-cert", certificate.Path, "--tls-key", key.Path, "--proxy", Proxy]);

        run.ExitCode.Should().Be(0);
        run.Options!.Limits.TlsCertificatePath.Should().Be(certificate.Path);
        run.Options.Limits.TlsKeyPath.Should().Be(key.Path);
    }

    [Fact]
    public async Task Invoke_TlsVariables_FlagWinsOverEach()
    {
        using var certificate = new TemporaryFile();
        using var key = new TemporaryFile();
        using var otherKey = new TemporaryFile();
        TestCertificates.WritePemPair(certificate.Path, key.Path);
        File.Copy(key.Path, otherKey.Path, overwrite: true);
        var env = Env(("GOLLAMAS_TLS_CERT", certificate.Path), ("GOLLAMAS_TLS_KEY", key.Path));

        var run = await InvokeAsync(["--tls-key", otherKey.Path, "--proxy", Proxy], env);

        run.ExitCode.Should().Be(0);
        run.Options!.Limits.TlsCertificatePath.Should().Be(certificate.Path);
        run.Options.Limits.TlsKeyPath.Should().Be(otherKey.Path);
    }

    [Fact]
    public async Task Invoke_BodyTempDirThatDoesNotExist_Exits2InOneLine()
    {
        var run = await InvokeAsync(["--body-temp-dir", "/nonexistent/gollamas", "--proxy", Proxy]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
        run.Error.Should().Be("gollamas: --body-temp-dir \"/nonexistent/gollamas\": no such directory" + Environment.NewLine);
    }

    [Fact]
    public async Task Invoke_BodyTempDirVariable_IsTheDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("gollamas-cli-");
        try
        {
            var run = await InvokeAsync(["--proxy", Proxy], Env(("GOLLAMAS_BODY_TEMP_DIR", directory.FullName)));

            run.ExitCode.Should().Be(0);
            run.Options!.Limits.BodyTempDirectory.Should().Be(directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Invoke_TlsCertificateFlagWithoutKey_Exits2NamingTheKey()
    {
        using var certificate = new TemporaryFile();

        var run = await InvokeAsync(["--tls-cert", certificate.Path, "--proxy", Proxy]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
        run.Error.Should().Be("gollamas: --tls-key/GOLLAMAS_TLS_KEY: missing (--tls-cert is set; give both or neither)" + Environment.NewLine);
    }

    [Fact]
    public async Task Invoke_TlsKeyVariableWithoutCertificate_Exits2NamingTheCertificate()
    {
        using var key = new TemporaryFile();

        var run = await InvokeAsync(["--proxy", Proxy], Env(("GOLLAMAS_TLS_KEY", key.Path)));

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
        run.Error.Should().Be("gollamas: --tls-cert/GOLLAMAS_TLS_CERT: missing (GOLLAMAS_TLS_KEY is set; give both or neither)" + Environment.NewLine);
    }

    [Theory]
    [InlineData(new string[0], null, new string[0])]
    [InlineData(new string[0], "k1, k2", new[] { "k1", "k2" })]
    [InlineData(new string[0], " ", new string[0])]
    [InlineData(new[] { "--api-key", "f1" }, "k1,k2", new[] { "f1" })]
    [InlineData(new[] { "--api-key", "f1,f2", "--api-key", " f3 " }, "k1", new[] { "f1", "f2", "f3" })]
    [InlineData(new[] { "--api-key=f1" }, null, new[] { "f1" })]
    public async Task Invoke_ApiKeySources_FlagsReplaceTheVariable(string[] flags, string? variable, string[] expected)
    {
        var run = await InvokeAsync([.. flags, "--proxy", Proxy], Env(("GOLLAMAS_API_KEYS", variable)));

        run.ExitCode.Should().Be(0);
        run.Options!.Security.ApiKeys.Should().Equal(expected);
    }

    [Theory]
    [InlineData(new string[0], null, new string[0])]
    [InlineData(new string[0], "Ollama.Example.com, gpu.example.com", new[] { "ollama.example.com", "gpu.example.com" })]
    [InlineData(new[] { "--allowed-hosts", "a.example,b.example", "--allowed-hosts", "10.1.2.3" }, "c.example", new[] { "a.example", "b.example", "10.1.2.3" })]
    [InlineData(new[] { "--allowed-hosts", "*" }, null, new[] { "*" })]
    [InlineData(new[] { "--allowed-hosts", "::1" }, null, new[] { "::1" })]
    public async Task Invoke_AllowedHostsSources_FlagsReplaceTheVariable(string[] flags, string? variable, string[] expected)
    {
        var run = await InvokeAsync([.. flags, "--proxy", Proxy], Env(("GOLLAMAS_ALLOWED_HOSTS", variable)));

        run.ExitCode.Should().Be(0);
        run.Options!.Security.AllowedHosts.Should().Equal(expected);
    }

    [Theory]
    [InlineData(new[] { "--allowed-hosts", "ollama.example.com:11434" }, null,
        "gollamas: --allowed-hosts \"ollama.example.com:11434\": not a host name (expected a name or address without port, e.g. ollama.example.com, or * for any)")]
    [InlineData(new[] { "--allowed-hosts", "http://ollama.example.com" }, null,
        "gollamas: --allowed-hosts \"http://ollama.example.com\": not a host name (expected a name or address without port, e.g. ollama.example.com, or * for any)")]
    [InlineData(new string[0], "a.example,,b.example",
        "gollamas: GOLLAMAS_ALLOWED_HOSTS: empty host name (expected a name or address without port, e.g. ollama.example.com, or * for any)")]
    public async Task Invoke_InvalidAllowedHost_Exits2NamingIt(string[] flags, string? variable, string line)
    {
        var run = await InvokeAsync([.. flags, "--proxy", Proxy], Env(("GOLLAMAS_ALLOWED_HOSTS", variable)));

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be(line + Environment.NewLine);
    }

    [Fact]
    public async Task Invoke_ApiKeysFile_FlagWinsOverVariable()
    {
        using var fromFlag = new TemporaryFile();
        using var fromVariable = new TemporaryFile();

        var flagged = await InvokeAsync(["--api-keys-file", fromFlag.Path, "--proxy", Proxy], Env(("GOLLAMAS_API_KEYS_FILE", fromVariable.Path)));
        var variable = await InvokeAsync(["--proxy", Proxy], Env(("GOLLAMAS_API_KEYS_FILE", fromVariable.Path)));

        flagged.ExitCode.Should().Be(0);
        flagged.Options!.Security.ApiKeysFile.Should().Be(fromFlag.Path);
        variable.ExitCode.Should().Be(0);
        variable.Options!.Security.ApiKeysFile.Should().Be(fromVariable.Path);
    }

    // A key is a secret: whatever is wrong with it, stderr names it by position only.
    [Theory]
    [InlineData(new[] { "--api-key", "" }, null, "gollamas: --api-key #1: empty key")]
    [InlineData(new[] { "--api-key", "s3cr3t", "--api-key", "s3cr3t two" }, null,
        "gollamas: --api-key #2: a key cannot contain white space or control characters")]
    [InlineData(new[] { "--api-key", "s3cr3t,,x" }, null, "gollamas: --api-key #2: empty key")]
    [InlineData(new string[0], "s3cr3t,", "gollamas: GOLLAMAS_API_KEYS #2: empty key")]
    [InlineData(new string[0], "s3cr3t,in side",
        "gollamas: GOLLAMAS_API_KEYS #2: a key cannot contain white space or control characters")]
    public async Task Invoke_InvalidApiKey_Exits2WithoutEchoingAnyKey(string[] flags, string? variable, string line)
    {
        var run = await InvokeAsync([.. flags, "--proxy", Proxy], Env(("GOLLAMAS_API_KEYS", variable)));

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
        run.Error.Should().Be(line + Environment.NewLine);
        run.Error.Should().NotContain("s3cr3t").And.NotContain("side");
    }

    [Theory]
    [InlineData(new string[0], null, false)]
    [InlineData(new[] { "--forward-authorization" }, null, true)]
    [InlineData(new[] { "--forward-authorization", "true" }, "false", true)]
    [InlineData(new[] { "--forward-authorization", "false" }, "true", false)]
    [InlineData(new string[0], "on", true)]
    [InlineData(new string[0], "", false)]
    public async Task Invoke_ForwardAuthorizationSources_FlagThenVariable(string[] flag, string? variable, bool expected)
    {
        var run = await InvokeAsync([.. flag, "--proxy", Proxy], Env(("GOLLAMAS_FORWARD_AUTHORIZATION", variable)));

        run.ExitCode.Should().Be(0);
        run.Options!.Security.ForwardAuthorization.Should().Be(expected);
    }

    [Theory]
    [InlineData(new string[0], null, null, true, null)]
    [InlineData(new[] { "--metrics", "false" }, "true", null, false, null)]
    [InlineData(new string[0], "off", null, false, null)]
    [InlineData(new[] { "--metrics-listen", "0.0.0.0:9090" }, null, "127.0.0.1:1", true, "0.0.0.0:9090")]
    [InlineData(new string[0], null, ":9090", true, ":9090")]
    public async Task Invoke_MetricsSources_FlagThenVariable(string[] flag, string? enabled, string? listen, bool expectedEnabled, string? expectedListen)
    {
        var run = await InvokeAsync([.. flag, "--proxy", Proxy], Env(("GOLLAMAS_METRICS", enabled), ("GOLLAMAS_METRICS_LISTEN", listen)));

        run.ExitCode.Should().Be(0);
        run.Options!.Metrics.Enabled.Should().Be(expectedEnabled);
        run.Options.Metrics.Listen?.ToString().Should().Be(expectedListen);
        (run.Options.Metrics.Listen is null).Should().Be(expectedListen is null);
    }

    [Fact]
    public async Task Invoke_BadMetricsListen_Exits2NamingTheValue()
    {
        var run = await InvokeAsync(["--proxy", Proxy, "--metrics-listen", "nowhere"]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be("gollamas: --metrics-listen \"nowhere\": missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)" + Environment.NewLine);
    }

    // On by default, so both the flag and the variable must be able to turn it off.
    [Theory]
    [InlineData(new string[0], null, true)]
    [InlineData(new[] { "--access-log" }, null, true)]
    [InlineData(new[] { "--access-log" }, "false", true)]
    [InlineData(new[] { "--access-log", "false" }, null, false)]
    [InlineData(new[] { "--access-log", "False" }, "true", false)]
    [InlineData(new[] { "--access-log=false" }, null, false)]
    [InlineData(new[] { "--access-log", "true" }, "false", true)]
    [InlineData(new string[0], "false", false)]
    [InlineData(new string[0], "off", false)]
    [InlineData(new string[0], "0", false)]
    [InlineData(new string[0], "yes", true)]
    [InlineData(new string[0], " ", true)]
    public async Task Invoke_AccessLogSources_FlagThenVariableThenOn(string[] flag, string? variable, bool expected)
    {
        var run = await InvokeAsync([.. flag, "--proxy", Proxy], Env(("GOLLAMAS_ACCESS_LOG", variable)));

        run.ExitCode.Should().Be(0);
        run.Options!.Logging.AccessLog.Should().Be(expected);
    }

    [Fact]
    public async Task Invoke_BlankOriginInsideTheList_ExitsWith2NamingTheVariable()
    {
        var run = await InvokeAsync(["--proxy", Proxy], Env(("OLLAMA_ORIGINS", "https://a.example,,")));

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().StartWith("gollamas: OLLAMA_ORIGINS: empty origin");
    }

    // Each configuration error: exit 2, nothing run, one line naming where the bad value came from.
    [Theory]
    [InlineData(new[] { "-a", "nowhere", "--proxy", Proxy }, null, null,
        "gollamas: -a \"nowhere\": missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_LISTEN", "localhost:99999",
        "gollamas: GOLLAMAS_LISTEN \"localhost:99999\": invalid port '99999' (expected 0-65535)")]
    [InlineData(new[] { "--proxy", Proxy }, "LISTEN", "nowhere",
        "gollamas: LISTEN \"nowhere\": missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)")]
    [InlineData(new[] { "--error-level", "loud", "--proxy", Proxy }, null, null,
        "gollamas: --error-level \"loud\": unknown level (expected panic, fatal, error, warn, info, debug or trace)")]
    [InlineData(new[] { "--proxy", Proxy }, "LEVEL", "loud",
        "gollamas: LEVEL \"loud\": unknown level (expected panic, fatal, error, warn, info, debug or trace)")]
    [InlineData(new[] { "--proxy", "llama3.2" }, null, null,
        "gollamas: --proxy \"llama3.2\": missing '=' (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData(new[] { "--proxies", "llama3.2=c3" }, null, null,
        "gollamas: --proxies \"llama3.2=c3\": unknown connection id 'c3' (no --connection declares one; for the server of that host name, write http://c3:11434)")]
    [InlineData(new string[0], "GOLLAMAS_PROXIES", "my.ns/m=http://h:1",
        "gollamas: GOLLAMAS_PROXIES \"my.ns/m=http://h:1\": invalid model name 'my.ns/m'")]
    [InlineData(new string[0], "PROXIES", "m=http://h:1,",
        "gollamas: PROXIES: empty entry (expected MODEL=URL or MODEL=CONNECTION_ID)")]
    [InlineData(new[] { "--proxy", Proxy, "--connection", "c1=gpu1" }, null, null,
        "gollamas: --connection \"c1=gpu1\": 'gpu1' is not an http(s) URL (expected ID=URL)")]
    [InlineData(new[] { "--proxy", Proxy, "--connections", "c1" }, null, null,
        "gollamas: --connections \"c1\": missing '=' (expected ID=URL)")]
    [InlineData(new[] { "--proxy", Proxy }, "CONNECTIONS", "=http://h:1",
        "gollamas: CONNECTIONS \"=http://h:1\": empty connection id (expected ID=URL)")]
    [InlineData(new[] { "--proxy", Proxy, "--alias", "gpt-4=mistral" }, null, null,
        "gollamas: --alias \"gpt-4=mistral\": alias points to unknown model 'mistral' (configure it, or let a connection's models be found with --discover)")]
    [InlineData(new[] { "--proxy", Proxy, "--aliases", "llama3.2:latest=llama3.2" }, null, null,
        "gollamas: --aliases \"llama3.2:latest=llama3.2\": alias shadows a configured model")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_ALIASES", "gpt-4",
        "gollamas: GOLLAMAS_ALIASES \"gpt-4\": missing '=' (expected ALIAS=MODEL)")]
    [InlineData(new[] { "--proxy", Proxy }, "LIST_ALIASES", "maybe",
        "gollamas: LIST_ALIASES \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)")]
    [InlineData(new[] { "--proxy", Proxy, "--health-interval", "5x" }, null, null,
        "gollamas: --health-interval \"5x\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_HEALTH_INTERVAL", "0",
        "gollamas: GOLLAMAS_HEALTH_INTERVAL \"0\": out of range (expected 1ms to 1000h)")]
    [InlineData(new[] { "--proxy", Proxy, "--health-timeout", "-2s" }, null, null,
        "gollamas: --health-timeout \"-2s\": out of range (expected 1ms to 1000h)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_HEALTH_TIMEOUT", "2 s",
        "gollamas: GOLLAMAS_HEALTH_TIMEOUT \"2 s\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData(new[] { "--proxy", Proxy, "--health-failures", "0" }, null, null,
        "gollamas: --health-failures \"0\": invalid failure count (expected a whole number of at least 1)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_HEALTH_FAILURES", "three",
        "gollamas: GOLLAMAS_HEALTH_FAILURES \"three\": invalid failure count (expected a whole number of at least 1)")]
    [InlineData(new[] { "--proxy", Proxy, "--max-concurrency", "2", "--max-concurrency", "3" }, null, null,
        "gollamas: --max-concurrency \"3\": default limit already set to 2 (give ID_OR_URL=N for one connection)")]
    [InlineData(new[] { "--proxy", Proxy, "--max-concurrency", "gpu9=2" }, null, null,
        "gollamas: --max-concurrency \"gpu9=2\": unknown connection id 'gpu9' (no --connection declares one; for the server of that host name, write http://gpu9:11434)")]
    [InlineData(new[] { "--proxy", Proxy, "--max-concurrency", "http://gpu9:11434=2" }, null, null,
        "gollamas: --max-concurrency \"http://gpu9:11434=2\": no connection has URL 'http://gpu9:11434'")]
    [InlineData(new[] { "--proxy", Proxy, "--max-concurrency", "http://gpu1:11434=0" }, null, null,
        "gollamas: --max-concurrency \"http://gpu1:11434=0\": invalid limit '0' (expected a whole number of at least 1)")]
    [InlineData(new[] { "--proxy", Proxy, "--connections", "a=http://gpu1:11434,b=http://gpu1:11434", "--max-concurrency", "http://gpu1:11434=2" }, null, null,
        "gollamas: --max-concurrency \"http://gpu1:11434=2\": URL 'http://gpu1:11434' is shared by connections 'a', 'b' (give the connection id instead)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_MAX_CONCURRENCY", "4,",
        "gollamas: GOLLAMAS_MAX_CONCURRENCY: empty entry (expected N or ID_OR_URL=N)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_MAX_CONCURRENCY", "unlimited",
        "gollamas: GOLLAMAS_MAX_CONCURRENCY \"unlimited\": invalid limit (expected a whole number, 0 for unlimited)")]
    [InlineData(new[] { "--proxy", Proxy, "--queue-length", "-1" }, null, null,
        "gollamas: --queue-length \"-1\": invalid queue length (expected a whole number, 0 for no queue)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_QUEUE_LENGTH", "64k",
        "gollamas: GOLLAMAS_QUEUE_LENGTH \"64k\": invalid queue length (expected a whole number, 0 for no queue)")]
    [InlineData(new[] { "--proxy", Proxy, "--queue-timeout", "1d" }, null, null,
        "gollamas: --queue-timeout \"1d\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_QUEUE_TIMEOUT", "2000h",
        "gollamas: GOLLAMAS_QUEUE_TIMEOUT \"2000h\": out of range (expected 1ms to 1000h)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_ALLOW_RUNNING", "maybe",
        "gollamas: GOLLAMAS_ALLOW_RUNNING \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)")]
    [InlineData(new[] { "--proxy", Proxy, "--max-body-size", "64M" }, null, null,
        "gollamas: --max-body-size \"64M\": invalid size (expected e.g. 64MiB, 500MB, or a number of bytes)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_MAX_BODY_SIZE", "4GiB",
        "gollamas: GOLLAMAS_MAX_BODY_SIZE \"4GiB\": out of range (expected 1KiB to 2147483647 bytes)")]
    [InlineData(new[] { "--proxy", Proxy, "--max-body-size", "512" }, null, null,
        "gollamas: --max-body-size \"512\": out of range (expected 1KiB to 2147483647 bytes)")]
    [InlineData(new[] { "--proxy", Proxy, "--header-timeout", "0" }, null, null,
        "gollamas: --header-timeout \"0\": out of range (expected 1ms to 1000h)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_HEADER_TIMEOUT", "30 s",
        "gollamas: GOLLAMAS_HEADER_TIMEOUT \"30 s\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData(new[] { "--proxy", Proxy, "--connect-timeout", "5x" }, null, null,
        "gollamas: --connect-timeout \"5x\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_CONNECT_TIMEOUT", "0s",
        "gollamas: GOLLAMAS_CONNECT_TIMEOUT \"0s\": out of range (expected 1ms to 1000h)")]
    [InlineData(new[] { "--proxy", Proxy, "--idle-timeout", "-1m" }, null, null,
        "gollamas: --idle-timeout \"-1m\": out of range (expected 0 for none, or 1ms to 1000h)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_IDLE_TIMEOUT", "never",
        "gollamas: GOLLAMAS_IDLE_TIMEOUT \"never\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    [InlineData(new[] { "--proxy", Proxy, "--max-connections", "-1" }, null, null,
        "gollamas: --max-connections \"-1\": invalid connection limit (expected a whole number, 0 for no limit)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_MAX_CONNECTIONS", "1e3",
        "gollamas: GOLLAMAS_MAX_CONNECTIONS \"1e3\": invalid connection limit (expected a whole number, 0 for no limit)")]
    [InlineData(new[] { "--proxy", Proxy, "--drain-timeout", "1001h" }, null, null,
        "gollamas: --drain-timeout \"1001h\": out of range (expected 1ms to 1000h)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_DRAIN_TIMEOUT", "0",
        "gollamas: GOLLAMAS_DRAIN_TIMEOUT \"0\": out of range (expected 1ms to 1000h)")]
    [InlineData(new[] { "--proxy", Proxy, "--api-keys-file", "/nonexistent/gollamas/keys" }, null, null,
        "gollamas: --api-keys-file \"/nonexistent/gollamas/keys\": no such file")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_API_KEYS_FILE", ".",
        "gollamas: GOLLAMAS_API_KEYS_FILE \".\": is a directory (expected a file)")]
    [InlineData(new[] { "--proxy", Proxy, "--api-keys-file", "" }, null, null,
        "gollamas: --api-keys-file: empty path (expected a file)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_FORWARD_AUTHORIZATION", "maybe",
        "gollamas: GOLLAMAS_FORWARD_AUTHORIZATION \"maybe\": not a boolean (expected true/false, 1/0, yes/no or on/off)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_ACCESS_LOG", "quiet",
        "gollamas: GOLLAMAS_ACCESS_LOG \"quiet\": not a boolean (expected true/false, 1/0, yes/no or on/off)")]
    [InlineData(new[] { "--proxy", Proxy, "--log-format", "xml" }, null, null,
        "gollamas: --log-format \"xml\": unknown format (expected simple or json)")]
    [InlineData(new[] { "--proxy", Proxy }, "GOLLAMAS_LOG_FORMAT", "logfmt",
        "gollamas: GOLLAMAS_LOG_FORMAT \"logfmt\": unknown format (expected simple or json)")]
    [InlineData(new string[0], null, null,
        "gollamas: --proxy/--proxies: no model configured (expected MODEL=URL or MODEL=CONNECTION_ID, or --discover ID_OR_URL)")]
    [InlineData(new[] { "--proxies", " " }, null, null,
        "gollamas: --proxy/--proxies: no model configured (expected MODEL=URL or MODEL=CONNECTION_ID, or --discover ID_OR_URL)")]
    public async Task Invoke_ConfigurationError_Exits2WithOneLineNamingTheValue(string[] args, string? variable, string? value, string line)
    {
        var env = variable is null ? Env() : Env((variable, value));

        var run = await InvokeAsync(args, env);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
        run.Output.Should().BeEmpty();
        run.Error.Should().Be(line + Environment.NewLine);
    }

    [Fact]
    public async Task Invoke_SeveralConfigurationErrors_PrintsEachOnItsOwnLine()
    {
        var run = await InvokeAsync(["--listen", "x", "--proxy", "a", "--proxy", "b"]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Split(Environment.NewLine).Should().Equal(
            "gollamas: --listen \"x\": missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)",
            "gollamas: --proxy \"a\": missing '=' (expected MODEL=URL or MODEL=CONNECTION_ID)",
            "gollamas: --proxy \"b\": missing '=' (expected MODEL=URL or MODEL=CONNECTION_ID)",
            "");
    }

    [Fact]
    public async Task Invoke_UnknownFlag_Exits2WithOneLineAndHint()
    {
        var run = await InvokeAsync(["--proxy", Proxy, "--bogus"]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
        run.Output.Should().BeEmpty();
        run.Error.Split(Environment.NewLine).Should().Equal(
            "gollamas: unknown flag --bogus",
            "gollamas: run 'gollamas --help' for usage",
            "");
    }

    [Theory]
    [InlineData("--listen")]
    [InlineData("--proxy")]
    [InlineData("--level")]
    [InlineData("--health-interval")]
    [InlineData("--health-timeout")]
    [InlineData("--health-failures")]
    [InlineData("--max-concurrency")]
    [InlineData("--queue-length")]
    [InlineData("--queue-timeout")]
    [InlineData("--max-body-size")]
    [InlineData("--header-timeout")]
    [InlineData("--connect-timeout")]
    [InlineData("--idle-timeout")]
    [InlineData("--max-connections")]
    [InlineData("--drain-timeout")]
    [InlineData("--tls-cert")]
    [InlineData("--tls-key")]
    [InlineData("--api-key")]
    [InlineData("--api-keys-file")]
    [InlineData("--log-format")]
    public async Task Invoke_FlagWithoutValue_Exits2(string flag)
    {
        var run = await InvokeAsync([flag]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
        run.Error.Should().StartWith("gollamas: ").And.EndWith("gollamas: run 'gollamas --help' for usage" + Environment.NewLine);
    }

    [Theory]
    [InlineData("--list-aliases")]
    [InlineData("--allow-running")]
    [InlineData("--forward-authorization")]
    [InlineData("--access-log")]
    public async Task Invoke_NotABooleanOnCommandLine_Exits2(string flag)
    {
        var run = await InvokeAsync(["--proxy", Proxy, flag, "maybe"]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
    }

    [Theory]
    [InlineData("version")]
    [InlineData("--version")]
    public async Task Invoke_Version_PrintsOneVersionLine(string arg)
    {
        var run = await InvokeAsync([arg]);

        run.ExitCode.Should().Be(0);
        run.Options.Should().BeNull();
        run.Error.Should().BeEmpty();
        run.Output.Should().Be(VersionInfo.Line + Environment.NewLine);
        run.Output.Should().MatchRegex(@"^gollamas \d+\.\d+\.\d+\S* \(commit (unknown|[0-9a-f]+), " + System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier + @"\)\r?\n$");
    }

    [Fact]
    public async Task Invoke_ServerThrows_Exits1WithOneLine()
    {
        var command = GollamasCommand.Create(_ => null, (_, _, _) => throw new InvalidOperationException("boom"));
        var error = new StringWriter();

        var exitCode = await GollamasCommand.InvokeAsync(command, ["--proxy", Proxy], Configuration(new StringWriter(), error), CancellationToken.None);

        exitCode.Should().Be(ExitCodes.Unexpected);
        error.ToString().Should().Be("gollamas: unexpected error (System.InvalidOperationException); please report it" + Environment.NewLine);
    }

    [Fact]
    public async Task Invoke_Cancelled_PassesTokenToServer()
    {
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var command = GollamasCommand.Create(_ => null, async (_, _, cancellationToken) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return ExitCodes.Unexpected;
        });

        var invocation = GollamasCommand.InvokeAsync(command, ["--proxy", Proxy], Configuration(new StringWriter(), new StringWriter()), cts.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cts.CancelAsync();

        (await invocation.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be(ExitCodes.Success);
    }

    private static string Setting(GollamasOptions options, string flag) => flag switch
    {
        "--health-interval" => options.Health.Interval.ToString(),
        "--health-timeout" => options.Health.Timeout.ToString(),
        "--health-failures" => options.Health.FailuresBeforeDown.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--queue-length" => options.Concurrency.QueueLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--queue-timeout" => options.Concurrency.QueueTimeout.ToString(),
        "--max-body-size" => options.Limits.MaxRequestBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--header-timeout" => options.Limits.RequestHeadersTimeout.ToString(),
        "--connect-timeout" => options.Limits.ConnectTimeout.ToString(),
        "--idle-timeout" => options.Limits.IdleTimeout.ToString(),
        "--max-connections" => options.Limits.MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--drain-timeout" => options.Limits.DrainTimeout.ToString(),
        "--log-format" => options.Logging.Format,
        _ => throw new ArgumentOutOfRangeException(nameof(flag), flag, "no setting for this flag"),
    };

    internal static Dictionary<string, string?> Env(params (string Name, string? Value)[] variables) =>
        variables.Where(v => v.Value is not null).ToDictionary(v => v.Name, v => v.Value);

    internal static async Task<CliRun> InvokeAsync(string[] args, Dictionary<string, string?>? environment = null, int serverExitCode = 0)
    {
        GollamasOptions? captured = null;
        ConfigSource? capturedSource = null;
        var command = GollamasCommand.Create(
            name => environment?.GetValueOrDefault(name),
            (options, source, _) =>
            {
                captured = options;
                capturedSource = source;
                return Task.FromResult(serverExitCode);
            });
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await GollamasCommand.InvokeAsync(command, args, Configuration(output, error), CancellationToken.None);

        return new CliRun(exitCode, output.ToString(), error.ToString(), captured, capturedSource);
    }

    // No ProcessTerminationTimeout: with one, every invocation would hook the test process's
    // SIGINT/SIGTERM handling.
    internal static InvocationConfiguration Configuration(TextWriter output, TextWriter error) =>
        new() { Output = output, Error = error, ProcessTerminationTimeout = null };

    internal sealed record CliRun(int ExitCode, string Output, string Error, GollamasOptions? Options, ConfigSource? Source = null);

    /// <summary>An empty file that exists for one test.</summary>
    private sealed class TemporaryFile : IDisposable
    {
        public string Path { get; } = System.IO.Path.GetTempFileName();

        public void Dispose() => File.Delete(Path);
    }
}
