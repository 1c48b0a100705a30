using System.Net;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// <c>/v1/responses</c> bodies sent with <c>Content-Encoding: zstd</c>, as Ollama accepts them: the
/// proxy reads the model from the decompressed JSON and forwards the JSON uncompressed. The
/// bodies are compressed here with the system's libzstd, the one the proxy uses.
/// </summary>
public sealed class ZstdBodyTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;
    private ProxyUnderTest _proxy = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={_gpu.BaseUri}"],
            aliases: ["gpt-4o=llama3.2"],
            adjust: options => options with { Limits = options.Limits with { MaxRequestBodyBytes = 64 * 1024 } });
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _gpu.DisposeAsync();
    }

    [Fact]
    public async Task Responses_ZstdBody_RoutedByItsModelAndForwardedDecompressed()
    {
        const string json = """{"model":"llama3.2","input":"Why is the sky blue?","stream":false}""";

        using var response = await PostAsync("/v1/responses", Zstd.Compress(json));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Contain("\"object\":\"response\"");
        var received = await _gpu.WaitForRequestAsync(r => r.Path == "/v1/responses").DefaultTimeout();
        received.BodyText.Should().Be(json);
        received.Headers.Should().NotContainKey("Content-Encoding");
    }

    [Fact]
    public async Task Responses_ZstdBodyOfSeveralFramesWithAnAlias_ModelRewrittenInTheWholeBody()
    {
        // Two frames, the model key in the second: every frame is read.
        var body = Zstd.Compress("{\"input\":\"hi\",").Concat(Zstd.Compress("\"model\":\"gpt-4o\"}")).ToArray();

        using var response = await PostAsync("/v1/responses", body);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _gpu.WaitForRequestAsync(r => r.Path == "/v1/responses").DefaultTimeout()).BodyText
            .Should().Be("""{"input":"hi","model":"llama3.2"}""");
    }

    [Theory]
    [InlineData("not zstd at all")]
    [InlineData("truncated")]
    public async Task Responses_InvalidZstd_400InTheOpenAiShapeAndNothingForwarded(string kind)
    {
        var body = kind == "truncated"
            ? Zstd.Compress("""{"model":"llama3.2","input":"a longer input, so the frame has a body to cut"}""")[..^6]
            : Encoding.ASCII.GetBytes(kind);

        using var response = await PostAsync("/v1/responses", body);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":{"message":"failed to decompress zstd body","type":"invalid_request_error","param":null,"code":null}}""");
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Responses_ZstdBodyLargerThanTheLimitOnceDecompressed_413()
    {
        var json = $$"""{"model":"llama3.2","input":"{{new string('a', 100 * 1024)}}"}""";
        var body = Zstd.Compress(json);
        body.Length.Should().BeLessThan(64 * 1024, "the compressed body itself is within the limit");

        using var response = await PostAsync("/v1/responses", body);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).Should().Contain("larger than 65536 bytes once decompressed");
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ChatCompletions_ZstdBody_NotDecompressedAsOllamaDoesNot()
    {
        // Ollama decompresses on /v1/responses only; elsewhere the body is read as it is.
        using var response = await PostAsync("/v1/chat/completions", Zstd.Compress("""{"model":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().StartWith("""{"error":{"message":"invalid JSON in request body""");
        _gpu.Requests.Should().BeEmpty();
    }

    private async Task<HttpResponseMessage> PostAsync(string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentEncoding.Add("zstd");
        return await _proxy.Client.PostAsync(path, content);
    }
}
