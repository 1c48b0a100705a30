using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Gollamas.Tests.Robustness;

namespace Gollamas.Tests.Connections;

/// <summary>
/// The request head as it crosses the proxy, byte for byte: fields named in Connection are
/// hop-by-hop both ways (RFC 9110 section 7.6.1), header values arrive as the client's bytes,
/// and a control character in a header value or the target gets 400, as Go's net/http gives it.
/// </summary>
public sealed class HeaderBytesTests : IAsyncLifetime
{
    private const string Body = """{"model":"llama3.2","stream":false}""";

    private RawLoopbackServer _server = null!;
    private ProxyUnderTest _proxy = null!;

    public async Task InitializeAsync()
    {
        _server = RawLoopbackServer.Start(static (stream, cancellationToken) => RawLoopbackServer.WriteAsciiAsync(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Kept: 1\r\nX-Hop: 2\r\nX-Other-Hop: 3\r\nConnection: X-Hop\r\nconnection: close , x-other-hop\r\nContent-Length: 2\r\n\r\n{}",
            cancellationToken));
        _proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={_server.BaseUri}"]);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Request_FieldsNamedInEveryConnectionHeader_NotForwarded()
    {
        var response = await SendAsync(Head("Connection: keep-alive, X-Secret\r\nconnection: x-TRACE-id\r\nX-Secret: s\r\nX-Trace-Id: t\r\nX-Kept: k\r\n"));

        response?.Status.Should().Be(200);
        var received = await _server.WaitForRequestAsync(static r => r.Target == "/api/chat").DefaultTimeout();
        received.Headers.Should().ContainKey("X-Kept").And.NotContainKey("X-Secret").And.NotContainKey("X-Trace-Id");
    }

    [Fact]
    public async Task Response_FieldsNamedInEveryConnectionHeader_NotForwarded()
    {
        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent(Body));

        ((int)response.StatusCode).Should().Be(200);
        response.Headers.Contains("X-Kept").Should().BeTrue();
        response.Headers.Contains("X-Hop").Should().BeFalse();
        response.Headers.Contains("X-Other-Hop").Should().BeFalse();
    }

    [Fact]
    public async Task Request_Utf8HeaderValues_ArriveAsTheClientsBytes()
    {
        // é, €, an emoji, NEL and U+2028 as UTF-8, and a tab: none is a control byte to HTTP.
        var value = Encoding.UTF8.GetBytes("caf\u00E9 \u20AC\U0001F600 \u0085\u2028\tend");

        var response = await SendAsync(Head("X-Name: ", value, "\r\n"));

        response?.Status.Should().Be(200);
        var received = await _server.WaitForRequestAsync(static r => r.Target == "/api/chat").DefaultTimeout();
        // The head read as Latin-1: one char per byte, so equal lines are equal bytes.
        received.Head.Split("\r\n").Should().Contain(Encoding.Latin1.GetString([.. "X-Name: "u8, .. value]));
    }

    public static TheoryData<byte> ControlBytes()
    {
        var data = new TheoryData<byte>();
        for (var b = 0; b < 0x20; b++)
        {
            if (b != '\t')
            {
                data.Add((byte)b);
            }
        }

        data.Add(0x7F);
        return data;
    }

    [Theory]
    [MemberData(nameof(ControlBytes))]
    public async Task Request_ControlByteInAHeaderValue_400AndNothingForwarded(byte control)
    {
        var response = await SendAsync(Head("X-Name: a", [control], "b\r\n"));

        response?.Status.Should().Be(400);
        if (control is not (0 or (byte)'\r' or (byte)'\n'))
        {
            // Kestrel refuses NUL, CR and LF itself; the rest reach the proxy, which refuses them.
            response?.Body.Should().Be("""{"error":"bad request: a header value holds a control character"}""");
        }

        _server.Requests.Should().NotContain(static r => r.Target.StartsWith("/api/chat", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ControlBytes))]
    [InlineData((byte)'\t')]
    public async Task Request_ControlByteInTheQuery_400AndNothingForwarded(byte control)
    {
        var response = await SendAsync([.. "POST /api/chat?q=a"u8, control, .. Encoding.ASCII.GetBytes($"b HTTP/1.1\r\nHost: localhost\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}")]);

        response?.Status.Should().Be(400);
        _server.Requests.Should().NotContain(static r => r.Target.StartsWith("/api/chat", StringComparison.Ordinal));
    }

    public static TheoryData<byte> C1Bytes()
    {
        var data = new TheoryData<byte>();
        for (var b = 0x80; b < 0xA0; b++)
        {
            data.Add((byte)b);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(C1Bytes))]
    public async Task Request_LoneByteFrom0x80To0x9FInAHeaderValue_400AndNothingForwarded(byte b)
    {
        // Not UTF-8, which Kestrel decodes header values as: it refuses them (Go would pass them
        // on as obs-text; the proxy cannot give the server bytes it never decoded).
        var response = await SendAsync(Head("X-Name: a", [b], "\r\n"));

        response?.Status.Should().Be(400);
        _server.Requests.Should().NotContain(static r => r.Target.StartsWith("/api/chat", StringComparison.Ordinal));
    }

    private static byte[] Head(string headers) => Head(headers, [], "");

    private static byte[] Head(string before, byte[] middle, string after) =>
        [
            .. Encoding.ASCII.GetBytes("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + before),
            .. middle,
            .. Encoding.ASCII.GetBytes($"{after}Content-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}"),
        ];

    private async Task<(int Status, string Body)?> SendAsync(byte[] request)
    {
        using var connection = await RawHttpConnection.ConnectAsync(_proxy.BaseUri);
        await connection.SendAsync(request);
        return await connection.ReadResponseAsync();
    }
}
