using System.Net;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Endpoints;

public sealed class DispatcherTests : IAsyncLifetime
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

    [Fact]
    public async Task Root_Get_OllamaIsRunningAsPlainText()
    {
        using var response = await _proxy.Client.GetAsync("/");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be("Ollama is running");
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Root_Head_200WithTheGetHeadersAndNoBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/");
        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; charset=utf-8");
        response.Content.Headers.ContentLength.Should().Be(17);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Root_Post_405WithAllowGetHead()
    {
        using var response = await _proxy.Client.PostAsync("/", new StringContent(""));

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Equal("GET", "HEAD");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"method POST not allowed on /"}""");
    }

    [Theory]
    [InlineData("POST", "/api/create", """{"model":"llama3.2","from":"llama3.2"}""", "creating models")]
    [InlineData("POST", "/api/push", """{"model":"llama3.2"}""", "pushing models")]
    [InlineData("POST", "/api/copy", """{"source":"llama3.2","destination":"llama3.2-copy"}""", "copying models")]
    [InlineData("DELETE", "/api/delete", """{"model":"llama3.2"}""", "deleting models")]
    [InlineData("POST", "/api/blobs/sha256:abc", "GGUF raw bytes", "blobs")]
    public async Task Unsupported_Endpoint_501OllamaErrorNamingTheRefusalAndNothingForwarded(string method, string path, string body, string what)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.NotImplemented);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be(
            $$"""{"error":"gollamas router doesn't support {{what}}; send this request to an Ollama server directly"}""");
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task AnthropicMessages_WrongMethod_405InAnthropicsShape()
    {
        using var response = await _proxy.Client.GetAsync("/v1/messages");

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Equal("POST");
        AnthropicErrorBody.Read(await response.Content.ReadAsStringAsync())
            .Should().Be(("api_error", "method GET not allowed on /v1/messages"));
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Unsupported_HeadBlob_501WithoutBodyAndNothingForwarded()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/api/blobs/sha256:abc");
        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.NotImplemented);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        _gpu.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("GET", "/api/chat", "POST", """{"error":"method GET not allowed on /api/chat"}""")]
    [InlineData("GET", "/api/show", "POST", """{"error":"method GET not allowed on /api/show"}""")]
    [InlineData("POST", "/api/tags", "GET, HEAD", """{"error":"method POST not allowed on /api/tags"}""")]
    [InlineData("POST", "/api/version", "GET, HEAD", """{"error":"method POST not allowed on /api/version"}""")]
    [InlineData("GET", "/api/delete", "DELETE", """{"error":"method GET not allowed on /api/delete"}""")]
    [InlineData("GET", "/api/blobs/sha256:abc", "HEAD, POST", """{"error":"method GET not allowed on /api/blobs/sha256:abc"}""")]
    [InlineData("GET", "/v1/chat/completions", "POST", """{"error":{"message":"method GET not allowed on /v1/chat/completions","type":"api_error","param":null,"code":null}}""")]
    [InlineData("POST", "/v1/models", "GET", """{"error":{"message":"method POST not allowed on /v1/models","type":"api_error","param":null,"code":null}}""")]
    [InlineData("GET", "/v1/responses", "POST", """{"error":{"message":"method GET not allowed on /v1/responses","type":"api_error","param":null,"code":null}}""")]
    public async Task KnownPath_WrongMethod_405WithAllowAndTheBodyInThePathsShape(string method, string path, string allow, string error)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        string.Join(", ", response.Content.Headers.Allow).Should().Be(allow);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be(error);
        _gpu.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("GET", "/api/nope", """{"error":"gollamas: no endpoint GET /api/nope"}""")]
    [InlineData("POST", "/api/blobs/", """{"error":"gollamas: no endpoint POST /api/blobs/"}""")]
    [InlineData("GET", "/api/tags/extra", """{"error":"gollamas: no endpoint GET /api/tags/extra"}""")]
    [InlineData("GET", "/v1/nope", """{"error":{"message":"gollamas: no endpoint GET /v1/nope","type":"not_found_error","param":null,"code":null}}""")]
    [InlineData("GET", "/v1/models/", """{"error":{"message":"gollamas: no endpoint GET /v1/models/","type":"not_found_error","param":null,"code":null}}""")]
    [InlineData("GET", "/v1/models/mattw/x", """{"error":{"message":"gollamas: no endpoint GET /v1/models/mattw/x","type":"not_found_error","param":null,"code":null}}""")]
    public async Task UnknownPath_404JsonInThePathsShape(string method, string path, string error)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be(error);
        _gpu.Requests.Should().BeEmpty();
    }

    private const string ControlCharacterRefusal = "bad request: a header value holds a control character";

    [Theory]
    [InlineData("POST", "/api/chat", $$"""{"error":"{{ControlCharacterRefusal}}"}""")]
    [InlineData("POST", "/api/blobs/sha256:abc", $$"""{"error":"{{ControlCharacterRefusal}}"}""")]
    [InlineData("GET", "/api/nope", $$"""{"error":"{{ControlCharacterRefusal}}"}""")]
    [InlineData("POST", "/v1/chat/completions", $$$"""{"error":{"message":"{{{ControlCharacterRefusal}}}","type":"invalid_request_error","param":null,"code":null}}""")]
    [InlineData("POST", "/v1/responses", $$$"""{"error":{"message":"{{{ControlCharacterRefusal}}}","type":"invalid_request_error","param":null,"code":null}}""")]
    [InlineData("GET", "/v1/models/llama3.2", $$$"""{"error":{"message":"{{{ControlCharacterRefusal}}}","type":"invalid_request_error","param":null,"code":null}}""")]
    [InlineData("GET", "/v1/nope", $$$"""{"error":{"message":"{{{ControlCharacterRefusal}}}","type":"invalid_request_error","param":null,"code":null}}""")]
    public async Task RefusedBeforeDispatch_ErrorInTheShapeOfThePathsApi(string method, string path, string error)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("X-Name", "a\u0001b");

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be(error);
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task AnthropicMessages_RefusedBeforeDispatch_ErrorInAnthropicsShape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages");
        request.Headers.TryAddWithoutValidation("X-Name", "a\u0001b");

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        AnthropicErrorBody.Read(await response.Content.ReadAsStringAsync())
            .Should().Be(("invalid_request_error", ControlCharacterRefusal));
        _gpu.Requests.Should().BeEmpty();
    }
}
