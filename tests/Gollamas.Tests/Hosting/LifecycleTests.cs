using System.Net;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Hosting;

/// <summary>Probes, the idle timeout on a silent server, and draining after a stop signal.</summary>
public sealed class LifecycleTests : TwoServersTest
{
    [Fact]
    public async Task Healthz_AnsweredByTheProxyItself()
    {
        var proxy = await StartAsync();

        using var response = await proxy.Client.GetAsync("/healthz");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"status":"ok"}""");
        A.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Readyz_ReadyWhileAServerIsUp_UnreadyWhenEveryServerIsDown()
    {
        var versionFails = false;
        A.Map("GET", "/api/version", (context, _) =>
        {
            context.Response.StatusCode = Volatile.Read(ref versionFails) ? 500 : 200;
            return context.Response.WriteAsync("""{"version":"0.9.6"}""");
        });
        var proxy = await StartAsync(probeAtStart: true);
        await proxy.Server.Health.FirstRound.DefaultTimeout();

        using (var ready = await proxy.Client.GetAsync("/readyz"))
        {
            ready.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        Volatile.Write(ref versionFails, true);
        for (var i = 0; i < 3; i++)
        {
            await proxy.ProbeRoundAsync();
        }

        using var unready = await proxy.Client.GetAsync("/readyz");
        unready.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await unready.Content.ReadAsStringAsync()).Should().Be("""{"status":"no Ollama server is up"}""");
    }

    [Fact]
    public async Task StartUp_EveryServerUnreachable_ReadyzUnreadyAfterTheFirstRound_AndEachServerLoggedAtOnce()
    {
        var first = RawLoopbackServer.ClosedPortUri();
        var second = RawLoopbackServer.ClosedPortUri();
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={first}", $"qwen3={second}"], probeAtStart: true);

        await Proxy.Server.Health.FirstRound.DefaultTimeout();
        using var readyz = await Proxy.Client.GetAsync("/readyz");

        readyz.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await readyz.Content.ReadAsStringAsync()).Should().Be("""{"status":"no Ollama server is up"}""");
        foreach (var server in new[] { first, second })
        {
            Proxy.Logs.Lines.Should().ContainSingle(l => l.StartsWith($"Warning: Ollama server {server} failed its start-up probe: ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task StartUp_ServerAnswers_ReadyzReadyBeforeAnyProbeInterval()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"], probeAtStart: true);

        await Proxy.Server.Health.FirstRound.DefaultTimeout();
        using var readyz = await Proxy.Client.GetAsync("/readyz");

        readyz.StatusCode.Should().Be(HttpStatusCode.OK);
        A.Requests.Select(static r => r.Path).Should().Equal("/api/version", "/api/ps");
        Proxy.Logs.Lines.Should().NotContain(l => l.Contains("start-up probe", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartUp_ProbeNotAnsweredYet_ProxyServesAndReadyzSaysStartingUntilTheProbeTimesOut()
    {
        await using var silent = RawLoopbackServer.StartSilent();
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={silent.BaseUri}"], probeAtStart: true);

        using var healthz = await Proxy.Client.GetAsync("/healthz");
        using var starting = await Proxy.Client.GetAsync("/readyz");

        healthz.StatusCode.Should().Be(HttpStatusCode.OK, "start-up does not wait for the probes");
        starting.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await starting.Content.ReadAsStringAsync()).Should().Be("""{"status":"starting: no Ollama server has answered yet"}""");
        Proxy.Server.Health.FirstRound.IsCompleted.Should().BeFalse();

        Proxy.Time.Advance(TimeSpan.FromSeconds(2)); // the probe timeout
        await Proxy.Server.Health.FirstRound.DefaultTimeout();
        using var unready = await Proxy.Client.GetAsync("/readyz");

        (await unready.Content.ReadAsStringAsync()).Should().Be("""{"status":"no Ollama server is up"}""");
        Proxy.Logs.Lines.Should().ContainSingle(l => l == $"Warning: Ollama server {silent.BaseUri} failed its start-up probe: no answer within 2s");
    }

    [Fact]
    public async Task SilentServer_504NamingTheIdleTimeout()
    {
        var silent = new StreamScript();
        silent.AddGated(StreamScript.NdjsonLine("""{"done":true}"""), out _);
        A.MapScript("POST", "/api/chat", silent);
        var proxy = await StartAsync(idle: TimeSpan.FromMilliseconds(300));

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

        // The fake sends its headers at once and then nothing: the proxy has a head, so the
        // silence comes after the response started and ends it in-band.
        (await response.Content.ReadAsStringAsync()).Should().StartWith("""{"error":"gollamas: the stream from the Ollama server on connection """).And.Contain("broke: nothing for 300ms");
    }

    [Fact]
    public async Task ServerThatNeverAnswers_504AfterTheIdleTimeout()
    {
        await using var silent = RawLoopbackServer.StartSilent();
        var proxy = await StartAsync(idle: TimeSpan.FromMilliseconds(300), server: silent.BaseUri);

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        (await response.Content.ReadAsStringAsync()).Should().Be($$"""{"error":"gollamas: Ollama server on connection 1 timed out: no answer within 300ms"}""");
    }

    [Fact]
    public async Task Drain_StreamThatEndsWithinTheDrainTimeout_Completes()
    {
        var held = HeldChat(out var release);
        A.MapScript("POST", "/api/chat", held);
        var proxy = await StartAsync();
        using var stream = await OpenChatAsync(proxy);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"a\"");

        var drained = proxy.Server.DrainAsync();
        drained.IsCompleted.Should().BeFalse("a stream is still running");
        release.Open();

        (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"done\":true");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().BeNull();
        await drained.DefaultTimeout();
    }

    [Fact]
    public async Task Drain_StreamStillRunningAtTheDeadline_EndsWithAnInBandError()
    {
        var held = HeldChat(out _);
        A.MapScript("POST", "/api/chat", held);
        var proxy = await StartAsync();
        using var stream = await OpenChatAsync(proxy);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"a\"");

        var drained = proxy.Server.DrainAsync();
        proxy.Time.Advance(TimeSpan.FromSeconds(30));

        (await reader.ReadLineAsync().DefaultTimeout()).Should().Be("""{"error":"gollamas is shutting down: the stream was cut at the end of the drain timeout"}""");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().BeNull();
        await drained.DefaultTimeout();
        await held.Aborted.DefaultTimeout();
    }

    [Fact]
    public async Task Readyz_DuringDrain_Unready()
    {
        using var lifecycle = new Gollamas.Forwarding.ProxyLifecycle();
        using var servers = new Gollamas.Connections.ConnectionRegistry();
        var probes = new Gollamas.Endpoints.ProbeEndpoints(lifecycle, servers);
        servers.GetOrAdd(new ConnectionConfig("a", A.BaseUri, true), new Gollamas.Connections.ConnectionSettings(), position: 1).Health.RecordSuccess();
        var before = new DefaultHttpContext();
        var during = new DefaultHttpContext();

        await probes.ReadyzAsync(before);
        lifecycle.BeginDraining(TimeSpan.FromSeconds(30), TimeProvider.System);
        await probes.ReadyzAsync(during);

        before.Response.StatusCode.Should().Be(200);
        during.Response.StatusCode.Should().Be(503);
    }

    private async Task<ProxyUnderTest> StartAsync(TimeSpan? idle = null, Uri? server = null, bool probeAtStart = false)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={server ?? A.BaseUri}"],
            adjust: options => options with { Limits = options.Limits with { IdleTimeout = idle ?? options.Limits.IdleTimeout } },
            probeAtStart: probeAtStart);
        return Proxy;
    }
}
