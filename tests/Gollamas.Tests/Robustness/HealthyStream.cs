using System.Net;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Robustness;

/// <summary>
/// A well-behaved chat stream held open through the proxy: its first line has reached the client,
/// the rest waits behind gates. <see cref="CompleteAsync"/> lets it finish and checks every byte.
/// </summary>
internal sealed class HealthyStream : IDisposable
{
    private static readonly byte[][] s_lines =
    [
        Encoding.UTF8.GetBytes(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"role":"assistant","content":"Hel"},"done":false}""")),
        Encoding.UTF8.GetBytes(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"role":"assistant","content":"lo \u00e9"},"done":false}""")),
        Encoding.UTF8.GetBytes(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"role":"assistant","content":""},"done":true}""")),
    ];

    private readonly HttpResponseMessage _response;
    private readonly Stream _body;
    private readonly StreamGate _second;
    private readonly StreamGate _last;

    private HealthyStream(HttpResponseMessage response, Stream body, StreamGate second, StreamGate last)
    {
        _response = response;
        _body = body;
        _second = second;
        _last = last;
    }

    public static async Task<HealthyStream> OpenAsync(HttpClient client, FakeOllamaServer fake)
    {
        var script = new StreamScript();
        script.Add(s_lines[0]);
        script.AddGated(s_lines[1], out var second);
        script.AddGated(s_lines[2], out var last);
        fake.MapScript("POST", "/api/chat", script);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2"}""") };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[s_lines[0].Length];
        await body.ReadExactlyAsync(first).AsTask().DefaultTimeout();
        first.Should().Equal(s_lines[0]);
        return new HealthyStream(response, body, second, last);
    }

    /// <summary>Opens the gates and asserts the rest of the stream arrives intact and ends.</summary>
    public async Task CompleteAsync()
    {
        _second.Open();
        _last.Open();
        using var rest = new MemoryStream();
        await _body.CopyToAsync(rest).DefaultTimeout();
        rest.ToArray().Should().Equal([.. s_lines[1], .. s_lines[2]], "the healthy stream must finish byte for byte");
        _response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    public void Dispose()
    {
        _body.Dispose();
        _response.Dispose();
    }
}
