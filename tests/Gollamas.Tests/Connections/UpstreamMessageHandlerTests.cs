using System.Net;
using System.Net.Sockets;
using System.Text;
using Gollamas.Connections;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Connections;

/// <summary>
/// The client behind Connection.Invoker (lists, version, show, health probes) against servers that
/// write exact bytes: what goes on the wire, what the caller gets, and the exceptions callers
/// catch when a server cannot be reached or misbehaves.
/// </summary>
public sealed class UpstreamMessageHandlerTests : IDisposable
{
    private const string TagsJson = """{"models":[{"name":"llama3.2:latest"}]}""";

    private readonly List<UpstreamPool> _pools = [];

    public void Dispose()
    {
        foreach (var pool in _pools)
        {
            pool.Dispose();
        }
    }

    [Fact]
    public async Task Get_ChunkedAnswer_RequestOnTheWireAndTheWholeBodyWithItsHeaders()
    {
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nX-Upstream: 1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                $"{TagsJson.Length - 10:x}\r\n{TagsJson[..^10]}\r\na\r\n{TagsJson[^10..]}\r\n0\r\n\r\n", ct);
            return true;
        });
        using var invoker = Invoker(server.BaseUri);

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseUri, "api/tags")), CancellationToken.None).DefaultTimeout();

        server.Requests.Should().ContainSingle().Which.Head.Should().Be($"GET /api/tags HTTP/1.1\r\nHost: {server.BaseUri.Authority}");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("X-Upstream").Should().Equal("1");
        response.Headers.TransferEncodingChunked.Should().BeNull("the body arrives whole, de-framed");
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        response.Content.Headers.ContentLength.Should().Be(TagsJson.Length);
        (await response.Content.ReadAsStringAsync()).Should().Be(TagsJson);
    }

    [Fact]
    public async Task Post_ByteArrayContent_SentWithItsLengthTypeAndBytes()
    {
        var body = """{"model":"llama3.2"}"""u8.ToArray();
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", ct);
            return true;
        });
        using var invoker = Invoker(server.BaseUri);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseUri, "api/show")) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");

        using var response = await invoker.SendAsync(request, CancellationToken.None).DefaultTimeout();

        var received = server.Requests.Should().ContainSingle().Subject;
        received.Head.Should().Be($"POST /api/show HTTP/1.1\r\nHost: {server.BaseUri.Authority}\r\nContent-Length: {body.Length}\r\nContent-Type: application/json");
        received.Body.Should().Equal(body);
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("{}");
    }

    [Fact]
    public async Task StatusOnlyLookedAt_TheConnectionCarriesTheNextRequest()
    {
        // A health probe reads only the status; the connection must still go back to the pool.
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"version\":\"0.9.6\"}\n", ct);
            return true;
        });
        using var invoker = Invoker(server.BaseUri);
        var uri = new Uri(server.BaseUri, "api/version");

        using (var first = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, uri), CancellationToken.None).DefaultTimeout())
        {
            first.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var second = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, uri), CancellationToken.None).DefaultTimeout();

        second.StatusCode.Should().Be(HttpStatusCode.OK);
        server.Requests.Select(r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (1, 2));
    }

    [Fact]
    public async Task RefusedConnection_HttpRequestExceptionWithTheSocketError()
    {
        var closed = RawLoopbackServer.ClosedPortUri();
        using var invoker = Invoker(closed);

        var send = () => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(closed, "api/version")), CancellationToken.None).DefaultTimeout();

        (await send.Should().ThrowAsync<HttpRequestException>()).WithInnerException<SocketException>()
            .Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
    }

    [Fact]
    public async Task NoConnectionWithinTheConnectTimeout_TaskCanceledAroundATimeout()
    {
        using var listener = new UnacceptingListener();
        using var invoker = Invoker(listener.BaseUri, TimeSpan.FromMilliseconds(300));

        var send = () => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(listener.BaseUri, "api/tags")), CancellationToken.None).DefaultTimeout();

        (await send.Should().ThrowAsync<TaskCanceledException>()).WithInnerException<TimeoutException>()
            .WithMessage("no connection within 300ms");
    }

    [Fact]
    public async Task NotHttp_HttpRequestExceptionWithTheProtocolError()
    {
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "SSH-2.0-OpenSSH_9.2\r\n\r\n", ct);
            return false;
        });
        using var invoker = Invoker(server.BaseUri);

        var send = () => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseUri, "api/ps")), CancellationToken.None).DefaultTimeout();

        (await send.Should().ThrowAsync<HttpRequestException>()).WithInnerException<UpstreamProtocolException>()
            .WithMessage("invalid status line");
    }

    [Fact]
    public async Task DeclaredBodyOverTheLimit_HttpRequestExceptionBeforeReadingIt()
    {
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {UpstreamMessageHandler.MaxBodyBytes + 1}\r\n\r\n{{", ct);
            return false;
        });
        using var invoker = Invoker(server.BaseUri);

        var send = () => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseUri, "api/tags")), CancellationToken.None).DefaultTimeout();

        (await send.Should().ThrowAsync<HttpRequestException>()).WithInnerException<UpstreamProtocolException>()
            .WithMessage($"response body of {UpstreamMessageHandler.MaxBodyBytes + 1} bytes, more than {UpstreamMessageHandler.MaxBodyBytes} allowed");
    }

    [Fact]
    public async Task ChunkedBodyGrowingPastTheLimit_HttpRequestException()
    {
        var chunk = Encoding.ASCII.GetBytes(new string('x', 1024 * 1024));
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ct);
            for (var i = 0; i <= UpstreamMessageHandler.MaxBodyBytes / chunk.Length; i++)
            {
                await KeepAliveLoopbackServer.WriteAsciiAsync(stream, $"{chunk.Length:x}\r\n", ct);
                await stream.WriteAsync(chunk, ct);
                await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "\r\n", ct);
            }

            return false;
        });
        using var invoker = Invoker(server.BaseUri);

        var send = () => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(server.BaseUri, "api/tags")), CancellationToken.None).DefaultTimeout();

        (await send.Should().ThrowAsync<HttpRequestException>()).WithInnerException<UpstreamProtocolException>()
            .WithMessage($"response body larger than {UpstreamMessageHandler.MaxBodyBytes} bytes");
    }

    private HttpMessageInvoker Invoker(Uri server, TimeSpan? connectTimeout = null)
    {
        var pool = new UpstreamPool(server, new ConnectionSettings { ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5) });
        _pools.Add(pool);
        return new HttpMessageInvoker(new UpstreamMessageHandler(pool), disposeHandler: true);
    }
}
