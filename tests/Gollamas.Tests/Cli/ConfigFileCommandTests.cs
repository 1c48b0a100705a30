using Gollamas.Config;
using Gollamas.Hosting;
using Gollamas.Tests.Infrastructure;
using static Gollamas.Tests.Cli.GollamasCommandTests;

namespace Gollamas.Tests.Cli;

/// <summary><c>gollamas --config FILE</c>: the file alone, with flags and variables, and its errors, as a user runs it.</summary>
public sealed class ConfigFileCommandTests : IDisposable
{
    // Stands for a file that exists, for the rows that want one (TLS, the keys file).
    private const string AFile = "{file}";

    // Stands for a PEM file of one certificate (a CA bundle).
    private const string APem = "{pem}";

    private static readonly string[] s_route = ["--proxy", "m=http://gpu1:11434"];
    private const string RouteYaml = "models: {m: ['http://gpu1:11434']}\n";

    // Per row: flags that set it (with a route) and a file that says the same. A new row fails
    // Table_CoversEveryRowReadFromAFile until it has its line here.
    private static readonly Dictionary<Setting, (string[] Flags, string Yaml)> s_sameSetting = new()
    {
        [Settings.Listen] = ([.. s_route, "--listen", "127.0.0.1:8080"], RouteYaml + "listen: 127.0.0.1:8080"),
        [Settings.Level] = ([.. s_route, "--level", "debug"], RouteYaml + "level: debug"),
        [Settings.Proxies] = (
            ["--connection", "gpu1=http://gpu1:11434", "--proxy", "m=gpu1", "--proxy", "m=http://gpu2:11434", "--proxy", "n=gpu1"],
            "connections: {gpu1: http://gpu1:11434}\nmodels:\n  m: [gpu1, 'http://gpu2:11434']\n  n: gpu1"),
        [Settings.Connections] = (
            ["--connection", "gpu1=http://u:p@gpu1:11434", "--proxy", "m=gpu1", "--max-concurrency", "gpu1=3"],
            "connections:\n  gpu1: {url: 'http://u:p@gpu1:11434', max_concurrency: 3}\nmodels: {m: gpu1}"),
        [Settings.Aliases] = (
            ["--proxy", "m=http://gpu1:11434", "--alias", "a=m", "--alias", "b=m"],
            "models: {m: {connections: ['http://gpu1:11434'], aliases: [a]}}\naliases: {b: m}"),
        [Settings.Discover] = (
            ["--connection", "gpu1=http://gpu1:11434", "--discover", "gpu1=qwen3:*", "--discover", "gpu1=!*:70b", "--discover", "http://gpu2:11434"],
            "connections:\n  gpu1: {url: 'http://gpu1:11434', discover: {include: ['qwen3:*'], exclude: ['*:70b']}}\ndiscover: ['http://gpu2:11434']"),
        [Settings.ListAliases] = ([.. s_route, "--list-aliases"], RouteYaml + "list_aliases: true"),
        [Settings.Origins] = ([.. s_route, "--origins", "https://a.example,https://b.example"], RouteYaml + "origins: [https://a.example, https://b.example]"),
        [Settings.HealthInterval] = ([.. s_route, "--health-interval", "10s"], RouteYaml + "health_interval: 10s"),
        [Settings.HealthTimeout] = ([.. s_route, "--health-timeout", "500ms"], RouteYaml + "health_timeout: 500ms"),
        [Settings.HealthFailures] = ([.. s_route, "--health-failures", "5"], RouteYaml + "health_failures: 5"),
        [Settings.MaxConcurrency] = (
            [.. s_route, "--max-concurrency", "4", "--max-concurrency", "http://gpu1:11434=2"],
            RouteYaml + "max_concurrency: [4, 'http://gpu1:11434=2']"),
        [Settings.Weight] = (
            ["--connection", "gpu1=http://gpu1:11434", "--proxy", "m=gpu1", "--weight", "gpu1=3", "--weight", "0.5"],
            "connections:\n  gpu1: {url: 'http://gpu1:11434', weight: 3}\nmodels: {m: gpu1}\nweight: 0.5"),
        [Settings.NumParallel] = (
            ["--connection", "gpu1=http://gpu1:11434", "--proxy", "m=gpu1", "--num-parallel", "gpu1=4", "--num-parallel", "2"],
            "connections:\n  gpu1: {url: 'http://gpu1:11434', num_parallel: 4}\nmodels: {m: gpu1}\nnum_parallel: 2"),
        [Settings.ConnectionHeaders] = (
            ["--connection", "gpu1=http://gpu1:11434", "--proxy", "m=gpu1", "--connection-header", "gpu1=X-Tenant=file:" + AFile],
            "connections: {gpu1: {url: 'http://gpu1:11434', headers: {X-Tenant: 'file:" + AFile + "'}}}\nmodels: {m: [gpu1]}\n"),
        [Settings.ConnectionCas] = (
            ["--connection", "gpu1=https://gpu1:11434", "--proxy", "m=gpu1", "--connection-ca", "gpu1=" + APem],
            "connections: {gpu1: {url: 'https://gpu1:11434', ca: '" + APem + "'}}\nmodels: {m: [gpu1]}\n"),
        [Settings.QueueLength] = ([.. s_route, "--queue-length", "16"], RouteYaml + "queue_length: 16"),
        [Settings.QueueTimeout] = ([.. s_route, "--queue-timeout", "2m"], RouteYaml + "queue_timeout: 2m"),
        [Settings.AllowRunning] = ([.. s_route, "--allow-running"], RouteYaml + "allow_running: yes"),
        [Settings.KeepAlive] = (
            [.. s_route, "--keep-alive", "30m", "--keep-alive", "m=-1"],
            "models: {m: {connections: ['http://gpu1:11434'], keep_alive: -1}}\nkeep_alive: 30m"),
        [Settings.ForceKeepAlive] = (
            [.. s_route, "--force-keep-alive", "m=1h"], "models: {m: {connections: ['http://gpu1:11434'], force_keep_alive: 1h}}"),
        [Settings.NumCtx] = (
            [.. s_route, "--num-ctx", "8192", "--num-ctx", "m=4096"],
            "num_ctx: 8192\nmodels: {m: {connections: ['http://gpu1:11434'], num_ctx: 4096}}"),
        [Settings.ForceNumCtx] = (
            [.. s_route, "--force-num-ctx", "m=2048"], "models: {m: {connections: ['http://gpu1:11434'], force_num_ctx: 2048}}"),
        [Settings.Preload] = ([.. s_route, "--preload", "m"], "models: {m: {connections: ['http://gpu1:11434'], preload: true}}"),
        [Settings.PingInterval] = ([.. s_route, "--preload", "m", "--ping-interval", "4m"], RouteYaml + "preload: [m]\nping_interval: 4m"),
        [Settings.MaxBodySize] = ([.. s_route, "--max-body-size", "64MiB"], RouteYaml + "max_body_size: 64MiB"),
        [Settings.BodyTempDir] = ([.. s_route, "--body-temp-dir", "{dir}"], RouteYaml + "body_temp_dir: '{dir}'"),
        [Settings.HeaderTimeout] = ([.. s_route, "--header-timeout", "10s"], RouteYaml + "header_timeout: 10s"),
        [Settings.ConnectTimeout] = ([.. s_route, "--connect-timeout", "2s"], RouteYaml + "connect_timeout: 2s"),
        [Settings.IdleTimeout] = ([.. s_route, "--idle-timeout", "30m"], RouteYaml + "idle_timeout: 30m"),
        [Settings.MaxConnections] = ([.. s_route, "--max-connections", "20000"], RouteYaml + "max_connections: 20000"),
        [Settings.DrainTimeout] = ([.. s_route, "--drain-timeout", "2m"], RouteYaml + "drain_timeout: 2m"),
        [Settings.TlsCertificate] = ([.. s_route, "--tls-cert", "{tlscert}", "--tls-key", "{tlskey}"], RouteYaml + "tls_cert: '{tlscert}'\ntls_key: '{tlskey}'"),
        [Settings.TlsKey] = ([.. s_route, "--tls-key", "{tlskey}", "--tls-cert", "{tlscert}"], RouteYaml + "tls_key: '{tlskey}'\ntls_cert: '{tlscert}'"),
        [Settings.ApiKeys] = ([.. s_route, "--api-key", "sk-1", "--api-key", "sk-2,sk-3"], RouteYaml + "api_keys: [sk-1, 'sk-2,sk-3']"),
        [Settings.ApiKeysFile] = ([.. s_route, "--api-keys-file", AFile], RouteYaml + $"api_keys_file: '{AFile}'"),
        [Settings.AdminKeys] = ([.. s_route, "--admin-key", "ops=sk-a", "--admin-key", "sk-b,sk-c"], RouteYaml + "admin_keys: [ops=sk-a, 'sk-b,sk-c']"),
        [Settings.AdminKeysFile] = ([.. s_route, "--admin-keys-file", AFile], RouteYaml + $"admin_keys_file: '{AFile}'"),
        [Settings.AdminListen] = ([.. s_route, "--admin-listen", "127.0.0.1:9091", "--admin-key", "sk-a"], RouteYaml + "admin_listen: 127.0.0.1:9091\nadmin_keys: [sk-a]"),
        [Settings.KeyModels] = ([.. s_route, "--key-models", "team-a=m", "--key-models", "team-a=m2"], RouteYaml + "key_models: [team-a=m, team-a=m2]"),
        [Settings.KeyConcurrency] = ([.. s_route, "--key-concurrency", "team-a=2"], RouteYaml + "key_concurrency: [team-a=2]"),
        [Settings.KeyRate] = ([.. s_route, "--key-rate", "team-a=60"], RouteYaml + "key_rate: team-a=60"),
        [Settings.ForwardAuthorization] = ([.. s_route, "--forward-authorization"], RouteYaml + "forward_authorization: true"),
        [Settings.AllowedHosts] = ([.. s_route, "--allowed-hosts", "a.example", "--allowed-hosts", "b.example"], RouteYaml + "allowed_hosts: [a.example, b.example]"),
        [Settings.AccessLog] = ([.. s_route, "--access-log", "false"], RouteYaml + "access_log: false"),
        [Settings.AccessLogProbes] = ([.. s_route, "--access-log-probes"], RouteYaml + "access_log_probes: true"),
        [Settings.LogFormat] = ([.. s_route, "--log-format", "json"], RouteYaml + "log_format: json"),
        [Settings.Metrics] = ([.. s_route, "--metrics", "false"], RouteYaml + "metrics: off"),
        [Settings.MetricsListen] = ([.. s_route, "--metrics-listen", "127.0.0.1:9090"], RouteYaml + "metrics_listen: 127.0.0.1:9090"),
    };

    private readonly string _directory = Directory.CreateTempSubdirectory("gollamas-config-").FullName;

    public static TheoryData<string> FileKeys() => [.. Settings.All.Select(static s => s.FileKey).OfType<string>()];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Table_CoversEveryRowReadFromAFile()
    {
        s_sameSetting.Keys.Should().BeEquivalentTo(Settings.All.Where(static s => s.FileKey is not null));
    }

    [Theory]
    [MemberData(nameof(FileKeys))]
    public async Task Setting_InTheFile_GivesTheOptionsItsFlagGives(string key)
    {
        var (flags, yaml) = s_sameSetting[Settings.All.Single(s => s.FileKey == key)];
        var existing = WriteFile("existing", "x");
        using var certificate = TestCertificates.CreateLoopback();
        var pem = WriteFile("ca.pem", certificate.ExportCertificatePem());
        var (tlsCertificate, tlsKey) = (Path.Combine(_directory, "tls.crt"), Path.Combine(_directory, "tls.key"));
        TestCertificates.WritePemPair(tlsCertificate, tlsKey);
        string Placed(string text) => text.Replace(AFile, existing, StringComparison.Ordinal).Replace(APem, pem, StringComparison.Ordinal).Replace("{dir}", _directory, StringComparison.Ordinal)
            .Replace("{tlscert}", tlsCertificate, StringComparison.Ordinal).Replace("{tlskey}", tlsKey, StringComparison.Ordinal);

        var fromFlags = await InvokeAsync([.. flags.Select(Placed)]);
        var fromFile = await InvokeAsync(["--config", WriteFile("gollamas.yaml", Placed(yaml))]);
        var routeOnly = await InvokeAsync(s_route);

        fromFlags.Error.Should().BeEmpty();
        fromFile.Error.Should().BeEmpty();
        fromFile.ExitCode.Should().Be(0);
        fromFile.Options.Should().BeEquivalentTo(fromFlags.Options, static o => o
            .Excluding(static x => x!.ConfigFile)
            .Excluding(static m => m.Type == typeof(ReadOnlyMemory<byte>))
            .Excluding(static m => m.Type == typeof(System.Security.Cryptography.X509Certificates.X509Certificate2Collection))
            .Excluding(static m => m.Type.IsByRefLike));
        fromFile.Options!.Overrides.Should().BeEmpty();

        // The value reached an option: the file's options are not those of the route alone.
        fromFile.Options.Should().NotBeEquivalentTo(routeOnly.Options, static o => o
            .Excluding(static x => x!.ConfigFile)
            .Excluding(static m => m.Type == typeof(ReadOnlyMemory<byte>))
            .Excluding(static m => m.Type == typeof(System.Security.Cryptography.X509Certificates.X509Certificate2Collection))
            .Excluding(static m => m.Type.IsByRefLike));
    }

    [Fact]
    public async Task AFileWithoutModels_IsToldWhereModelsGo()
    {
        var path = WriteFile("gollamas.yaml", "connections: {gpu1: http://gpu1:11434}\n");

        var run = await InvokeAsync(["--config", path]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be($"gollamas: {path}: models: no model configured (models: {{llama3.2: [gpu1]}} in the file, or --proxy MODEL=URL, or discover: true on a connection)\n");
    }

    [Fact]
    public async Task ConfigAlone_StartsWithTheFilesRoutesAndNamesTheFile()
    {
        var path = WriteFile("gollamas.yaml", "connections: {gpu1: http://gpu1:11434}\nmodels: {llama3.2: [gpu1]}\n");

        var run = await InvokeAsync(["--config", path]);

        run.ExitCode.Should().Be(0);
        run.Options!.ConfigFile.Should().Be(path);
        run.Options.Models.Should().ContainSingle().Which.Should().BeEquivalentTo(new ModelConfig("llama3.2", ["gpu1"]));
    }

    [Fact]
    public async Task ConfigFromItsVariable_IsRead()
    {
        var path = WriteFile("gollamas.yaml", "models: {llama3.2: ['http://gpu1:11434']}\nqueue_length: 3\n");

        var run = await InvokeAsync([], Env(("GOLLAMAS_CONFIG", path)));

        run.ExitCode.Should().Be(0);
        run.Options!.Concurrency.QueueLength.Should().Be(3);
    }

    [Fact]
    public async Task FlagOrVariable_WinsForItsSettingOnly_AndTheOverrideIsKept()
    {
        var path = WriteFile("gollamas.yaml", """
            models: {llama3.2: ['http://gpu1:11434']}
            health_interval: 5s
            queue_length: 3
            idle_timeout: 1m
            api_keys: [sk-file]
            """);

        var run = await InvokeAsync(
            ["--config", path, "--health-interval", "2s", "--api-key", "sk-flag"], Env(("GOLLAMAS_QUEUE_LENGTH", "9")));

        run.ExitCode.Should().Be(0);
        run.Options!.Health.Interval.Should().Be(TimeSpan.FromSeconds(2));
        run.Options.Concurrency.QueueLength.Should().Be(9);
        run.Options.Limits.IdleTimeout.Should().Be(TimeSpan.FromMinutes(1));
        run.Options.Security.ApiKeys.Should().Equal("sk-flag");
        run.Options.Overrides.Select(static o => o.ToString()).Should().Equal(
            $"health_interval: --health-interval 2s is used, not {path}:2's 5s",
            $"queue_length: GOLLAMAS_QUEUE_LENGTH 9 is used, not {path}:3's 3",
            $"api_keys: --api-key (hidden) is used, not {path}:5's (hidden)");
    }

    [Fact]
    public void Override_OfAListWithCredentials_NamesEveryEntryRedacted()
    {
        var flags = new ConfigInput().With(Settings.Connections, [new ConfigEntry("gpu1=http://u:secret@h:1", "--connection")]);
        var file = new ConfigInput().With(Settings.Connections, [
            new ConfigEntry("gpu1=http://a:b@h:2", "g.yaml:3: connections.gpu1"),
            new ConfigEntry("cpu1=http://h:3", "g.yaml:4: connections.cpu1")]);

        var (input, overrides) = ConfigSources.Combine(flags, file);

        input.Connections.Should().Equal(new ConfigEntry("gpu1=http://u:secret@h:1", "--connection"));
        overrides.Select(static o => o.ToString()).Should().Equal(
            "connections: --connection gpu1=http://***@h:1 is used, not g.yaml:3's gpu1=http://***@h:2, g.yaml:4's cpu1=http://h:3");
    }

    [Fact]
    public async Task Errors_OfTheFile_AreAllReportedInTheOrderOfItsLines_WithExit2()
    {
        var path = WriteFile("gollamas.yaml", """
            models:
              llama3.2: [gpu1, gpu3]
            connections:
              gpu1: http://gpu1:11434
            queue_length: many
            helth_interval: 5s
            health_timeout: 5x
            """);

        var run = await InvokeAsync(["--config", path, "--listen", "nowhere"]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Options.Should().BeNull();
        run.Error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            $"gollamas: {path}:2: models.llama3.2 \"llama3.2=gpu3\": unknown connection id 'gpu3'",
            $"gollamas: {path}:5: queue_length \"many\": invalid queue length (expected a whole number, 0 for no queue)",
            $"gollamas: {path}:6: helth_interval: unknown key (did you mean 'health_interval'?)",
            $"gollamas: {path}:7: health_timeout \"5x\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)",
            "gollamas: --listen \"nowhere\": missing port (expected HOST:PORT, :PORT or [IPV6]:PORT)");
    }

    [Fact]
    public async Task File_NotYaml_IsOneLineWithTheParsersMessage_AndExit2()
    {
        var path = WriteFile("gollamas.yaml", "listen: :1\nmodels: {llama3.2: [gpu1]\n");

        var run = await InvokeAsync(["--config", path]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be($"gollamas: {path}:3: While parsing a flow mapping,  did not find expected ',' or '}}'.{Environment.NewLine}");
    }

    [Fact]
    public async Task File_Missing_IsOneLine_AndExit2()
    {
        var path = Path.Combine(_directory, "absent.yaml");

        var run = await InvokeAsync(["--config", path, "--proxy", "m=http://gpu1:11434"]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be($"gollamas: --config \"{path}\": no such file{Environment.NewLine}");
    }

    [Fact]
    public async Task File_ADirectory_IsOneLine_AndExit2()
    {
        var run = await InvokeAsync([], Env(("GOLLAMAS_CONFIG", _directory)));

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be($"gollamas: GOLLAMAS_CONFIG \"{_directory}\": is a directory (expected a file){Environment.NewLine}");
    }

    [Fact]
    public async Task ExampleFile_InDeploy_ParsesIntoTheFleetItDescribes()
    {
        var run = await InvokeAsync(["--config", Path.Combine(AppContext.BaseDirectory, "Deploy", "gollamas.yaml")]);

        run.Error.Should().BeEmpty();
        run.ExitCode.Should().Be(0);
        var options = run.Options!;
        options.Connections.Select(static c => $"{c.Id}={c.BaseUri}").Should().Equal(
            "gpu1=http://10.0.0.5:11434/", "gpu2=http://10.0.0.6:11434/", "cpu1=http://10.0.0.7:11434/");
        options.Models.Select(static m => $"{m.Name}={string.Join(",", m.ConnectionIds)}").Should().Equal(
            "llama3.2=gpu1,gpu2", "qwen3:8b=gpu2,gpu1", "nomic-embed-text=cpu1");
        options.Aliases.Select(static a => $"{a.Alias}={a.Model}").Should().Equal(
            "gpt-4o=llama3.2", "gpt-4o-mini=qwen3:8b", "text-embedding-3-small=nomic-embed-text");
        options.Concurrency.PerConnection.Should().BeEquivalentTo(new Dictionary<string, int> { ["gpu1"] = 2, ["gpu2"] = 2 });
        options.Lifecycle.Preload.Should().Equal("llama3.2");
        options.Lifecycle.For("llama3.2").KeepAliveText.Should().Be("30m");
        options.Lifecycle.For("nomic-embed-text").KeepAliveText.Should().Be("10m");
        options.Health.Interval.Should().Be(TimeSpan.FromSeconds(10));
        options.Metrics.Listen.Should().Be(new ListenAddress("0.0.0.0", 9090));
    }

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }
}
