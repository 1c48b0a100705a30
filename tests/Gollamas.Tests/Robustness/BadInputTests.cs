using System.Net;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Robustness;

/// <summary>
/// Hostile and broken requests sent end to end through the real proxy while a healthy stream is
/// open through it: each must get a clear 4xx (or be closed, or be routed correctly), never a 500,
/// and the healthy stream must still finish byte for byte.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;
    private ProxyUnderTest _proxy = null!;
    private HealthyStream _healthy = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={_gpu.BaseUri}"]);
        _healthy = await HealthyStream.OpenAsync(_proxy.Client, _gpu);
    }

    public async Task DisposeAsync()
    {
        _healthy.Dispose();
        await _proxy.DisposeAsync();
        await _gpu.DisposeAsync();
    }

    [Theory]
    [InlineData("""{"model":"llama3.2",""")]
    [InlineData("""{model:"llama3.2"}""")]
    [InlineData("""{"model":"llama3.2",}""")]
    [InlineData("""{"model":'llama3.2'}""")]
    [InlineData("""{"model":"llama3.2","n":NaN}""")]
    [InlineData("""{"model":"llama3.2\x"}""")]
    [InlineData("not json")]
    [InlineData("\uFEFF{\"model\":\"llama3.2\"}")]
    [InlineData("[")]
    public async Task Generate_InvalidJson_Returns400AndTheOpenStreamCompletes(string body)
    {
        using var response = await _proxy.Client.PostAsync("/api/generate", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().StartWith("""{"error":"invalid JSON in request body: """);
        await _healthy.CompleteAsync();
        _gpu.Requests.Should().NotContain(r => r.Path == "/api/generate");
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{\"a\":", "}")]
    public async Task Generate_HundredThousandLevelsOfNesting_Returns400NotA500(string open, string close)
    {
        const int depth = 100_000;
        var body = "{\"model\":\"llama3.2\",\"format\":" + Repeat(open, depth) + "1" + Repeat(close, depth) + "}";

        using var response = await _proxy.Client.PostAsync("/api/generate", new StringContent(body));

        // Deeper than Go's 10 000 levels: Ollama itself would refuse it.
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().StartWith("""{"error":"invalid JSON in request body: """);
        await _healthy.CompleteAsync();
        _gpu.Requests.Should().NotContain(r => r.Path == "/api/generate");
    }

    [Fact]
    public async Task Generate_NestingWithinGosLimit_IsRoutedWithTheBodyUnchanged()
    {
        var body = "{\"format\":" + Repeat("[", 9_000) + Repeat("]", 9_000) + ",\"model\":\"llama3.2\",\"stream\":false}";
        _gpu.Map("POST", "/api/generate", static (context, _) => context.Response.WriteAsync("""{"done":true}""")); // the fake's own parser stops at 64 levels

        using var response = await _proxy.Client.PostAsync("/api/generate", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await _gpu.WaitForRequestAsync(r => r.Path == "/api/generate").DefaultTimeout()).BodyText.Should().Be(body);
        await _healthy.CompleteAsync();
    }

    [Theory]
    [InlineData("/api/generate", "42", "model must be a string")]
    [InlineData("/api/generate", "-1.5e300", "model must be a string")]
    [InlineData("/api/generate", "1e999999999", "model must be a string")]
    [InlineData("/api/generate", "true", "model must be a string")]
    [InlineData("/api/generate", "false", "model must be a string")]
    [InlineData("/api/generate", "[]", "model must be a string")]
    [InlineData("/api/generate", "[\"llama3.2\"]", "model must be a string")]
    [InlineData("/api/generate", "{}", "model must be a string")]
    [InlineData("/api/generate", "{\"model\":\"llama3.2\"}", "model must be a string")]
    [InlineData("/api/show", "{\"name\":\"llama3.2\"}", "model (or name) must be a string")]
    public async Task ModelEndpoint_ModelOfEveryNonStringType_Returns400(string path, string value, string message)
    {
        var body = "{\"model\":\"llama3.2\",\"model\":" + value + "}";

        using var response = await _proxy.Client.PostAsync(path, new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Be("{\"error\":\"" + message + "\"}");
        await _healthy.CompleteAsync();
        _gpu.Requests.Should().NotContain(r => r.Path == path);
    }

    [Fact]
    public async Task Generate_InvalidUtf8InAnotherString_IsRoutedWithTheBytesUnchanged()
    {
        // Go accepts invalid UTF-8 inside strings (it reads U+FFFD), so Ollama answers this one.
        byte[] body = [.. """{"model":"llama3.2","stream":false,"prompt":"a"""u8, 0xFF, 0xC0, 0xAF, 0xED, 0xA0, 0x80, .. "b\"}"u8];

        using var response = await _proxy.Client.PostAsync("/api/generate", new ByteArrayContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _gpu.WaitForRequestAsync(r => r.Path == "/api/generate").DefaultTimeout()).Body.Should().Equal(body);
        await _healthy.CompleteAsync();
    }

    [Fact]
    public async Task Generate_LoneSurrogateEscapeInAKey_IsRoutedNotA500()
    {
        const string body = """{"\ud800":1,"mod\udc00el":2,"model":"llama3.2","stream":false}""";

        using var response = await _proxy.Client.PostAsync("/api/generate", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _gpu.WaitForRequestAsync(r => r.Path == "/api/generate").DefaultTimeout()).BodyText.Should().Be(body);
        await _healthy.CompleteAsync();
    }

    [Fact]
    public async Task Generate_InvalidUtf8InTheModel_Returns404NotFound()
    {
        byte[] body = [.. """{"model":"llama"""u8, 0xFF, .. "3.2\"}"u8];

        using var response = await _proxy.Client.PostAsync("/api/generate", new ByteArrayContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("{\"error\":\"model 'llama\uFFFD3.2' not found; did you mean llama3.2?\"}");
        await _healthy.CompleteAsync();
        _gpu.Requests.Should().NotContain(r => r.Path == "/api/generate");
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC3, 0xA9 })]
    public async Task Generate_InvalidUtf8OutsideStrings_Returns400(byte[] bytes)
    {
        byte[] body = [.. """{"model":"llama3.2","""u8, .. bytes, .. "}"u8];

        using var response = await _proxy.Client.PostAsync("/api/generate", new ByteArrayContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        await _healthy.CompleteAsync();
        _gpu.Requests.Should().NotContain(r => r.Path == "/api/generate");
    }

    [Fact]
    public async Task Generate_OneGigabyteDeclared_Answers413WithoutReadingTheBody()
    {
        using var raw = await RawHttpConnection.ConnectAsync(_proxy.BaseUri);

        await raw.SendAsync("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{\"model\":\"llama3.2\",");
        var response = await raw.ReadResponseAsync().DefaultTimeout();

        response.Should().NotBeNull("the proxy must answer from the declared length, not wait for a gigabyte");
        response!.Value.Status.Should().Be(413);
        response.Value.Body.Should().Contain("request body is larger than");
        await _healthy.CompleteAsync();
        _gpu.Requests.Should().NotContain(r => r.Path == "/api/generate");
    }

    [Fact]
    public async Task Generate_BodyShorterThanItsContentLengthThenClose_NoErrorAndTheProxyKeepsServing()
    {
        using (var raw = await RawHttpConnection.ConnectAsync(_proxy.BaseUri))
        {
            await raw.SendAsync("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"model\":\"llama3.2\",");
            raw.ShutdownSend();

            var response = await raw.ReadResponseAsync().DefaultTimeout();

            // Either Kestrel's "unexpected end of request content" 400, or just the close.
            response?.Status.Should().Be(400);
        }

        await _healthy.CompleteAsync();
        using var next = await _proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));
        next.StatusCode.Should().Be(HttpStatusCode.OK);
        _gpu.Requests.Count(r => r.Path == "/api/generate").Should().Be(1, "only the complete request reaches Ollama");
        _proxy.Logs.Lines.Should().NotContain(l => l.StartsWith("Error:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("zz\r\n{}\r\n0\r\n\r\n", false)] // chunk size is not hex
    [InlineData("-1\r\n{}\r\n0\r\n\r\n", false)]
    [InlineData("FFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n", false)] // overflows
    [InlineData("3\r\n{\"model\":\"llama3.2\"}\r\n0\r\n\r\n", false)] // data longer than its size
    [InlineData("14\r\n{\"model\":\"llama3.2\"}", true)] // no CRLF, no last chunk, then the end
    [InlineData("14\r\n{\"model\":\"llama3.2\"}\r\n", true)] // no last chunk
    [InlineData("14\r\n{\"model\":\"llama3.2\"}\r\n0\r\n", true)] // no final CRLF
    public async Task Generate_ChunkedEncodingAbuse_Returns400OrClosesTheConnection(string chunks, bool thenClose)
    {
        using (var raw = await RawHttpConnection.ConnectAsync(_proxy.BaseUri))
        {
            await raw.SendAsync("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks);
            if (thenClose)
            {
                raw.ShutdownSend();
            }

            var response = await raw.ReadResponseAsync().DefaultTimeout();

            response?.Status.Should().Be(400, string.Join('\n', _proxy.Logs.Lines));
        }

        await _healthy.CompleteAsync();
        _gpu.Requests.Should().NotContain(r => r.Path == "/api/generate");
        _proxy.Logs.Lines.Should().NotContain(l => l.StartsWith("Error:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Request_HeadersThatNeverFinish_DoNotBlockOtherClients()
    {
        using var slow = await RawHttpConnection.ConnectAsync(_proxy.BaseUri);
        await slow.SendAsync("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nX-Slow: a");

        using var other = await _proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));

        other.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _gpu.WaitForRequestAsync(r => r.Path == "/api/generate").DefaultTimeout()).BodyText.Should().Be("""{"model":"llama3.2","stream":false}""");
        await _healthy.CompleteAsync();
    }

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();
}
