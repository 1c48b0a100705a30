using System.Net;
using Gollamas.Config;
using Gollamas.Hosting;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Hosting;

/// <summary>
/// A reload of the configuration: a valid one is put in force for new requests (and says what
/// it changed); an invalid one changes nothing and says why, once; a setting only a restart can
/// change is named; monitoring sees each outcome in /metrics.
/// </summary>
public sealed class ConfigReloaderTests : TwoServersTest
{
    private ConfigReading _next = null!;

    [Fact]
    public async Task AValidConfiguration_IsInForceForTheNextRequest_AndTheLogSaysWhatChanged()
    {
        using var reloader = await StartAsync(["llama3.2=a"]);
        _next = Reading(["llama3.2=a", "phi4=b"]);

        var reloaded = await reloader.ReloadAsync("a test").DefaultTimeout();
        using var response = await Proxy!.Client.PostAsync("/api/chat", new StringContent("""{"model":"phi4","stream":false}""")).DefaultTimeout();
        var metrics = await Proxy.Client.GetStringAsync("/metrics").DefaultTimeout();

        reloaded.Should().BeTrue();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        B.Requests.Should().Contain(static r => r.Path == "/api/chat");
        Proxy.Logs.Lines.Should().Contain(static l => l.Contains("Configuration reloaded after a test: 2 models on 2 connections; models added: phi4; connections added: b", StringComparison.Ordinal));
        metrics.Should().Contain("gollamas_config_reloads_total{result=\"success\"} 1\n")
            .And.Contain("gollamas_config_reloads_total{result=\"failure\"} 0\n");
    }

    [Fact]
    public async Task AnInvalidConfiguration_ChangesNothing_AndEachProblemIsLoggedOnce()
    {
        using var reloader = await StartAsync(["llama3.2=a"]);
        var loadedAt = LastReloadSuccess(await Proxy!.Client.GetStringAsync("/metrics").DefaultTimeout());
        _next = Reading(["llama3.2=nowhere", "phi4"]);

        var first = await reloader.ReloadAsync("a test").DefaultTimeout();
        var second = await reloader.ReloadAsync("SIGHUP").DefaultTimeout();
        using var response = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}""")).DefaultTimeout();
        var metrics = await Proxy.Client.GetStringAsync("/metrics").DefaultTimeout();

        first.Should().BeFalse();
        second.Should().BeFalse();
        response.StatusCode.Should().Be(HttpStatusCode.OK, "the configuration before stays in force");
        A.Requests.Should().Contain(static r => r.Path == "/api/chat");
        var problems = Proxy.Logs.Lines.Where(static l => l.Contains("Configuration problem:", StringComparison.Ordinal)).ToArray();
        problems.Should().HaveCount(2, "two problems, each logged once though two reloads found them");
        problems.Should().Contain(static l => l.Contains("--proxy \"phi4\"", StringComparison.Ordinal));
        Proxy.Logs.Lines.Should().Contain(static l => l.Contains("Configuration not reloaded after SIGHUP: 2 problems (the same as the last time)", StringComparison.Ordinal));
        metrics.Should().Contain("gollamas_config_reloads_total{result=\"failure\"} 2\n")
            .And.Contain("gollamas_config_reloads_total{result=\"success\"} 0\n");
        LastReloadSuccess(metrics).Should().Be(loadedAt, "the configuration in force is still the one read at start-up");
    }

    [Fact]
    public async Task ASettingOnlyARestartChanges_IsNamed_AndLiveOnesAreNot()
    {
        using var reloader = await StartAsync(["llama3.2=a"]);
        _next = Reading(["llama3.2=b"], input => input with
        {
            HealthInterval = new ConfigEntry("9s", "gollamas.yaml:3: health_interval"),
            QueueTimeout = new ConfigEntry("9s", "gollamas.yaml:4: queue_timeout"),
        });

        (await reloader.ReloadAsync("a test").DefaultTimeout()).Should().BeTrue();

        var restart = Proxy!.Logs.Lines.Where(static l => l.Contains("needs a restart", StringComparison.Ordinal)).ToArray();
        restart.Should().ContainSingle().Which.Should().Contain("--health-interval");
        Proxy.Server.Snapshots.Current.Queue.Timeout.Should().Be(TimeSpan.FromSeconds(9), "the queue timeout is in the snapshot: a reload applies it");
    }

    [Fact]
    public async Task AReadingThatThrows_ChangesNothing_AndIsAFailure()
    {
        Proxy = await ProxyUnderTest.StartAsync(["llama3.2=a"], connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"]);
        var initial = Reading(["llama3.2=a"]);
        using var reloader = new ConfigReloader(
            Proxy.Server, new ConfigSource("gollamas.yaml", () => throw new InvalidOperationException("boom"), initial), Proxy.Server.Metrics, Proxy.Time, Proxy.Logs.CreateLogger(nameof(ConfigReloader)));

        (await reloader.ReloadAsync("a test").DefaultTimeout()).Should().BeFalse();

        (await Proxy.Client.GetStringAsync("/metrics").DefaultTimeout()).Should().Contain("gollamas_config_reloads_total{result=\"failure\"} 1\n");
        Proxy.Server.Snapshots.Current.Routes.Models.Select(static m => m.Name).Should().Equal("llama3.2");
        // The exception's type, for a bug report; never its message (a resource key in the published binary).
        Proxy.Logs.Lines.Should().Contain(static l => l.Contains(
            "Configuration problem: an unexpected error in gollamas (System.InvalidOperationException; its details are logged at debug level)", StringComparison.Ordinal));
    }

    private async Task<ConfigReloader> StartAsync(string[] proxies)
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies, connections: [$"a={A.BaseUri}"]);
        var initial = Reading(proxies, connections: [$"a={A.BaseUri}"]);
        _next = initial;
        var logger = Proxy.Logs.CreateLogger(nameof(ConfigReloader));
        return new ConfigReloader(Proxy.Server, new ConfigSource("gollamas.yaml", () => _next, initial), Proxy.Server.Metrics, Proxy.Time, logger);
    }

    // The connections a and b of every test's configuration, with the routes given.
    private ConfigReading Reading(string[] proxies, Func<ConfigInput, ConfigInput>? adjust = null, string[]? connections = null)
    {
        var input = new ConfigInput(
            new ConfigEntry("127.0.0.1:0", "--listen"),
            new ConfigEntry("debug", "--level"),
            proxies.Select(static p => new ConfigEntry(p, "--proxy")).ToArray(),
            (connections ?? [$"a={A.BaseUri}", $"b={B.BaseUri}"]).Select(static c => new ConfigEntry(c, "--connection")).ToArray(),
            [],
            null);
        return ConfigReading.Of(adjust is null ? input : adjust(input));
    }

    private static string LastReloadSuccess(string metrics) =>
        metrics.Split('\n').Single(static l => l.StartsWith("gollamas_config_last_reload_success_timestamp_seconds ", StringComparison.Ordinal));
}
