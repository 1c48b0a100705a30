using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using static Gollamas.Tests.Endpoints.FakeAnswers;

namespace Gollamas.Tests.Endpoints;

public sealed class VersionEndpointTests : IAsyncLifetime
{
    private FakeOllamaServer _a = null!;
    private FakeOllamaServer _b = null!;
    private ProxyUnderTest? _proxy;

    public async Task InitializeAsync()
    {
        _a = await FakeOllamaServer.StartAsync("a");
        _b = await FakeOllamaServer.StartAsync("b");
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Theory]
    [InlineData("0.10.0", "0.9.6", "0.9.6")]
    [InlineData("0.9.6", "0.10.0", "0.9.6")]
    [InlineData("0.10.0-rc1", "0.10.0", "0.10.0-rc1")]
    [InlineData("0.10.0", "0.10.0-rc1", "0.10.0-rc1")]
    [InlineData("1.0.0", "0.12.10", "0.12.10")]
    [InlineData("0.12.10", "0.12.9", "0.12.9")]
    [InlineData("0.10.0-rc.10", "0.10.0-rc.2", "0.10.0-rc.2")]
    [InlineData("0.10.0-rc.1", "0.10.0-rc.beta", "0.10.0-rc.1")]
    [InlineData("0.10.0-rc.1", "0.10.0-rc", "0.10.0-rc")]
    public async Task Version_TwoServers_LowestBySemanticVersionOrder(string a, string b, string expected)
    {
        _a.Version = a;
        _b.Version = b;
        var proxy = await StartProxyAsync(_a.BaseUri, _b.BaseUri);

        using var response = await proxy.Client.GetAsync("/api/version");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be(JsonContentType);
        (await response.Content.ReadAsStringAsync()).Should().Be($$"""{"version":"{{expected}}"}""");
    }

    [Fact]
    public async Task Version_OneServerDown_AnsweredByTheOther()
    {
        _a.Version = "0.10.0";
        var proxy = await StartProxyAsync(_a.BaseUri, RawLoopbackServer.ClosedPortUri());

        using var response = await proxy.Client.GetAsync("/api/version");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"version":"0.10.0"}""");
    }

    [Fact]
    public async Task Version_OneServerAnswersGarbage_IgnoredNotLowest()
    {
        _a.Version = "0.10.0";
        ServeJson(_b, "/api/version", """{"version":""}""");
        var proxy = await StartProxyAsync(_a.BaseUri, _b.BaseUri);

        var body = await proxy.Client.GetStringAsync("/api/version");

        body.Should().Be("""{"version":"0.10.0"}""");
    }

    [Fact]
    public async Task Version_AllServersDown_502InOllamasShape()
    {
        var proxy = await StartProxyAsync(RawLoopbackServer.ClosedPortUri(), RawLoopbackServer.ClosedPortUri());

        using var response = await proxy.Client.GetAsync("/api/version");

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        response.Content.Headers.ContentType!.ToString().Should().Be(JsonContentType);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: no Ollama server answered /api/version"}""");
    }

    [Fact]
    public async Task Version_Head_Returns200JsonAndNoBody()
    {
        var proxy = await StartProxyAsync(_a.BaseUri, _b.BaseUri);

        using var request = new HttpRequestMessage(HttpMethod.Head, "/api/version");
        using var response = await proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be(JsonContentType);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        _a.Requests.Should().ContainSingle(r => r.Path == "/api/version");
    }

    private async Task<ProxyUnderTest> StartProxyAsync(Uri a, Uri b)
    {
        _proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={a}", $"qwen3:8b={b}"]);
        return _proxy;
    }
}
