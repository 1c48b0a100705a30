using System.Net;
using Gollamas.Tests.Infrastructure;
using static Gollamas.Tests.Endpoints.FakeAnswers;

namespace Gollamas.Tests.Endpoints;

/// <summary>GET /api/status asked of every server: cloud reads as disabled when any server that answered says so.</summary>
public sealed class CloudStatusEndpointTests : TwoServersTest
{
    private const string Enabled = """{"cloud":{"disabled":false,"source":"none"}}""";

    [Fact]
    public async Task Status_BothEnabled_Enabled()
    {
        ServeJson(A, "/api/status", Enabled);
        ServeJson(B, "/api/status", Enabled);
        Proxy = await StartProxyAsync();

        using var response = await Proxy.Client.GetAsync("/api/status");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be(JsonContentType);
        (await response.Content.ReadAsStringAsync()).Should().Be(Enabled);
        (await A.WaitForRequestAsync(r => r.Path == "/api/status").DefaultTimeout()).Method.Should().Be("GET");
        (await B.WaitForRequestAsync(r => r.Path == "/api/status").DefaultTimeout()).Method.Should().Be("GET");
    }

    [Fact]
    public async Task Status_TheSecondDisabledByItsEnvironment_DisabledWithItsSource()
    {
        ServeJson(A, "/api/status", Enabled);
        ServeJson(B, "/api/status", """{"cloud":{"disabled":true,"source":"env"}}""");
        Proxy = await StartProxyAsync();

        var body = await Proxy.Client.GetStringAsync("/api/status");

        body.Should().Be("""{"cloud":{"disabled":true,"source":"env"}}""");
    }

    [Fact]
    public async Task Status_OneServerWithoutTheEndpoint_TheOtherAnswers()
    {
        // a is an Ollama from before /api/status: its 404 leaves it out.
        ServeJson(B, "/api/status", """{"cloud":{"disabled":true,"source":"config"}}""");
        Proxy = await StartProxyAsync();

        var body = await Proxy.Client.GetStringAsync("/api/status");

        body.Should().Be("""{"cloud":{"disabled":true,"source":"config"}}""");
    }

    [Fact]
    public async Task Status_NoServerAnswers_502OllamaError()
    {
        Proxy = await StartProxyAsync();

        using var response = await Proxy.Client.GetAsync("/api/status");

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: no Ollama server answered /api/status"}""");
    }

    private Task<ProxyUnderTest> StartProxyAsync() =>
        ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=a", "qwen3:8b=b"],
            connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"]);
}
