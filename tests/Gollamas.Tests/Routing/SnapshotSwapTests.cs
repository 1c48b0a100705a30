using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Routing;

/// <summary>
/// Swapping the configuration snapshot of a running proxy: a request keeps the snapshot it
/// started with, servers a new snapshot names are added (and probed), and servers it no longer
/// names are retired once their requests in flight have finished.
/// </summary>
public sealed class SnapshotSwapTests : TwoServersTest
{
    private const string HeldBody =
        """{"model":"llama3.2","message":{"content":"a"},"done":false}""" + "\n"
        + """{"model":"llama3.2","message":{"content":""},"done":true}""" + "\n";

    [Fact]
    public async Task Swap_WhileAStreamRuns_TheStreamEndsWholeOnItsRoute_AndTheNextRequestTakesTheNewRoute()
    {
        var held = HeldChat(out var release);
        A.MapScript("POST", "/api/chat", held);
        Proxy = await ProxyUnderTest.StartAsync(["llama3.2=a", "phi4=b"], connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"]);
        using var stream = await OpenChatAsync(Proxy);
        var body = await stream.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body);
        var first = await reader.ReadLineAsync().DefaultTimeout();

        Proxy.Swap(["llama3.2=b", "phi4=a"], connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"]);
        using var after = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}""")).DefaultTimeout();
        release.Open();
        var rest = await reader.ReadToEndAsync().DefaultTimeout();

        after.StatusCode.Should().Be(HttpStatusCode.OK);
        (first + "\n" + rest).Should().Be(HeldBody);
        await held.Completed.DefaultTimeout();
        A.Requests.Where(static r => r.Path == "/api/chat").Should().ContainSingle("the stream started before the swap stays on its server");
        B.Requests.Where(static r => r.Path == "/api/chat").Should().ContainSingle("the request after the swap takes the new route");
        Proxy.Server.Connections.Active.Select(static s => s.Id).Should().Equal("a", "b");
    }

    [Fact]
    public async Task Swap_NamingANewConnection_AddsTheServer_RequestsReachIt_AndItIsProbed()
    {
        Proxy = await ProxyUnderTest.StartAsync([$"llama3.2={A.BaseUri}"]);
        var before = Proxy.Server.Connections.Active.Single();

        var snapshot = Proxy.Swap([$"llama3.2={A.BaseUri}", "phi4=b"], connections: [$"b={B.BaseUri}"]);
        using var response = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"phi4","stream":false}""")).DefaultTimeout();
        await Proxy.ProbeRoundAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        B.Requests.Should().Contain(static r => r.Method == "POST" && r.Path == "/api/chat");
        B.Requests.Should().Contain(static r => r.Method == "GET" && r.Path == "/api/version", "the health monitor probes the added server");
        snapshot.Connections.Should().HaveCount(2).And.Contain(before, "the server of the same connection lives on, its state with it");
        Proxy.Server.Connections.Active.Should().HaveCount(2);
        A.Requests.Should().NotContain(static r => r.Path == "/api/chat");
    }

    [Fact]
    public async Task Swap_RetiringAServerWithARequestInFlight_TheRequestCompletes_NoNewOneGoesThere_ThenItsPoolCloses()
    {
        var held = HeldChat(out var release);
        A.MapScript("POST", "/api/chat", held);
        Proxy = await ProxyUnderTest.StartAsync(["llama3.2=a"], connections: [$"a={A.BaseUri}"]);
        var retired = Proxy.Server.Connections.Active.Single();
        using var stream = await OpenChatAsync(Proxy);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().DefaultTimeout();

        Proxy.Swap(["llama3.2=b"], connections: [$"b={B.BaseUri}"]);
        using var after = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}""")).DefaultTimeout();
        var closedInFlight = retired.IsClosed;
        var versionProbes = A.Requests.Count(static r => r.Path == "/api/version");
        await Proxy.ProbeRoundAsync();
        release.Open();
        var rest = await reader.ReadToEndAsync().DefaultTimeout();
        await retired.Closed.DefaultTimeout();

        (first + "\n" + rest).Should().Be(HeldBody, "the request in flight completes on the retired server");
        after.StatusCode.Should().Be(HttpStatusCode.OK);
        closedInFlight.Should().BeFalse("a retired server keeps its pool while a request is in flight");
        retired.IsRetired.Should().BeTrue();
        retired.TryAcquire().Should().BeFalse("a retired server takes no new request");
        A.Requests.Where(static r => r.Path == "/api/chat").Should().ContainSingle();
        A.Requests.Count(static r => r.Path == "/api/version").Should().Be(versionProbes, "a retired server is not probed");
        B.Requests.Where(static r => r.Path == "/api/chat").Should().ContainSingle();
        Proxy.Server.Connections.Active.Select(static s => s.Id).Should().Equal("b");
    }

    [Fact]
    public async Task Swap_NewServerSettings_ReachTheLiveServer()
    {
        Proxy = await ProxyUnderTest.StartAsync(["llama3.2=a"], connections: [$"a={A.BaseUri}"]);
        var server = Proxy.Server.Connections.Active.Single();
        var gate = server.Gate;
        var before = (gate.Limit, server.Pool.Settings.ConnectTimeout, server.Health.FailuresBeforeDown);

        Proxy.Swap(["llama3.2=a"], connections: [$"a={A.BaseUri}"], input: static given => given with
        {
            MaxConcurrency = [new("a=2", "--max-concurrency")],
            ConnectTimeout = new("750ms", "--connect-timeout"),
            HealthFailures = new("7", "--health-failures"),
        });

        before.Should().Be((0, TimeSpan.FromSeconds(5), 3));
        Proxy.Server.Connections.Active.Should().Equal(server);
        server.Gate.Should().BeSameAs(gate);
        gate.Limit.Should().Be(2);
        server.Pool.Settings.ConnectTimeout.Should().Be(TimeSpan.FromMilliseconds(750));
        server.Health.FailuresBeforeDown.Should().Be(7);
    }
}
