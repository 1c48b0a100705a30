using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Gollamas.Tests.Robustness;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// Transcription forms the proxy could read otherwise than Ollama (Go's ParseMultipartForm and
/// FormValue("model")) are refused through the real proxy before any byte reaches a server: the
/// proxy must never route by one model while Ollama serves another.
/// </summary>
public sealed class TranscriptionFormTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;
    private FakeOllamaServer _cpu = null!;
    private ProxyUnderTest _proxy = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _cpu = await FakeOllamaServer.StartAsync("cpu");
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={_gpu.BaseUri}", "nomic-embed-text=cpu"],
            connections: [$"cpu={_cpu.BaseUri}"]);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _gpu.DisposeAsync();
        await _cpu.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(MisreadForms.Names), MemberType = typeof(MisreadForms))]
    public async Task Transcription_FormReadOtherwiseByGo_400WithOurSentenceAndNothingForwarded(string shape)
    {
        var (contentTypes, body, refusal) = MisreadForms.Get(shape);

        var (status, text) = await PostAsync(contentTypes, body);

        status.Should().Be(400);
        text.Should().Be($$$"""{"error":{"message":"{{{refusal.Replace("\"", "\\\"", StringComparison.Ordinal)}}}","type":"invalid_request_error","param":null,"code":null}}""");
        _gpu.Requests.Should().BeEmpty();
        _cpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Transcription_PlainFormWithOneContentType_Routed()
    {
        _cpu.Map("POST", "/v1/audio/transcriptions", static (context, _) => context.Response.WriteAsync("""{"text":"hello"}"""));
        var body = Encoding.ASCII.GetBytes($"--{MisreadForms.Boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nnomic-embed-text\r\n--{MisreadForms.Boundary}--\r\n");

        var (status, text) = await PostAsync([$"multipart/form-data; boundary={MisreadForms.Boundary}"], body);

        status.Should().Be(200, text);
        (await _cpu.WaitForRequestAsync(r => r.Path == "/v1/audio/transcriptions").DefaultTimeout()).Body.Should().Equal(body);
    }

    /// <summary>Sends the form over a raw connection, so that each Content-Type value is its own header line.</summary>
    private async Task<(int Status, string Body)> PostAsync(string[] contentTypes, byte[] body)
    {
        using var raw = await RawHttpConnection.ConnectAsync(_proxy.BaseUri);
        var head = new StringBuilder("POST /v1/audio/transcriptions HTTP/1.1\r\nHost: localhost\r\n");
        foreach (var contentType in contentTypes)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }

        head.Append("Content-Length: ").Append(body.Length).Append("\r\nConnection: close\r\n\r\n");
        await raw.SendAsync([.. Encoding.Latin1.GetBytes(head.ToString()), .. body]);
        var response = await raw.ReadResponseAsync().DefaultTimeout();
        response.Should().NotBeNull("the proxy answers every complete request");
        return response!.Value;
    }
}
