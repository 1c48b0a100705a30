using System.Net;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Security;

/// <summary>Ollama's default origins only: OLLAMA_ORIGINS is read from the process environment, so it is never set here.</summary>
public sealed class CorsTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;
    private ProxyUnderTest _proxy = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _gpu.Models = [new FakeModel("llama3.2:latest")];
        _proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={_gpu.BaseUri}"]);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _gpu.DisposeAsync();
    }

    [Theory]
    [InlineData("http://localhost:3000")]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("https://localhost")]
    [InlineData("app://obsidian.md")]
    [InlineData("vscode-webview://abc123")]
    public async Task Tags_AllowedOrigin_EchoedWithVaryOrigin(string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        request.Headers.Add("Origin", origin);

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal(origin);
        response.Headers.Vary.Should().Equal("Origin");
        (await response.Content.ReadAsStringAsync()).Should().Contain("\"name\":\"llama3.2:latest\"");
    }

    [Fact]
    public async Task Chat_AllowedOrigin_ForwardedAnswerCarriesTheCorsHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat")
        {
            Content = new StringContent("""{"model":"llama3.2","stream":false}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Origin", "http://localhost:3000");

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("http://localhost:3000");
        response.Headers.Vary.Should().Equal("Origin");
        response.Headers.GetValues("Access-Control-Expose-Headers").Should().Equal("X-Request-Id, X-Gollamas-Queue-Wait");
        var received = await _gpu.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout();
        received.Method.Should().Be("POST");
        received.Headers.Should().NotContainKey("Origin", "the proxy decides CORS; the server must not refuse again");
    }

    [Fact]
    public async Task OperatorOrigin_WildcardEntry_AllowsMatchingOriginsOnly()
    {
        await using var proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={_gpu.BaseUri}"],
            origins: ["https://*.example.com", "chrome-extension://abc"]);

        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/");
        allowed.Headers.Add("Origin", "https://chat.example.com");
        using var extension = new HttpRequestMessage(HttpMethod.Get, "/");
        extension.Headers.Add("Origin", "chrome-extension://abc");
        using var refused = new HttpRequestMessage(HttpMethod.Get, "/");
        refused.Headers.Add("Origin", "https://chat.example.org");

        using var allowedResponse = await proxy.Client.SendAsync(allowed);
        using var extensionResponse = await proxy.Client.SendAsync(extension);
        using var refusedResponse = await proxy.Client.SendAsync(refused);

        allowedResponse.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("https://chat.example.com");
        extensionResponse.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("chrome-extension://abc");
        refusedResponse.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Preflight_AllowedOrigin_204WithMethodsHeadersAndMaxAge()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions");
        request.Headers.Add("Origin", "app://obsidian.md");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type,x-stainless-lang,openai-beta");

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        response.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("app://obsidian.md");
        response.Headers.GetValues("Access-Control-Allow-Methods").Should().Equal("GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
        var allowedHeaders = string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")).Split(',');
        allowedHeaders.Should().Contain(["Authorization", "Content-Type", "X-Stainless-Lang", "OpenAI-Beta"]);
        response.Headers.GetValues("Access-Control-Max-Age").Should().Equal("43200");
        string.Join(", ", response.Headers.Vary).Should().Be("Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        _gpu.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("GET", "/api/tags")]
    [InlineData("POST", "/api/chat")]
    [InlineData("OPTIONS", "/api/chat")]
    public async Task DisallowedOrigin_403EmptyBodyAndNothingForwarded(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("""{"model":"llama3.2","stream":false}""", Encoding.UTF8, "application/json");
        }

        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
        _gpu.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("http://localhost.evil.example")]
    [InlineData("http://127.0.0.1.evil.example")]
    [InlineData("null")]
    public async Task LookalikeOrigin_403(string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/version");
        request.Headers.Add("Origin", origin);

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task SameOrigin_NoCorsHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        request.Headers.Add("Origin", "http://" + _proxy.BaseUri.Authority);

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
        response.Headers.Vary.Should().BeEmpty();
    }

    [Fact]
    public async Task OriginEqualToAForeignHost_NotTheSameOriginButARebindingPage()
    {
        // A page on gollamas.example re-pointed at 127.0.0.1 sends its own name in both headers.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        request.Headers.Host = "gollamas.example:8080";
        request.Headers.Add("Origin", "http://gollamas.example:8080");

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task NoOrigin_NoCorsHeaders()
    {
        using var response = await _proxy.Client.GetAsync("/api/tags");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
        response.Headers.Contains("Access-Control-Allow-Methods").Should().BeFalse();
        response.Headers.Vary.Should().BeEmpty();
    }
}
