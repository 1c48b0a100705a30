using System.Text;
using Gollamas.Config;
using Gollamas.Connections;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Connections;

/// <summary>
/// <see cref="RequestHeadWriter"/> on its own: a request in, the exact head bytes a server
/// receives out, for a client's request forwarded and for the proxy's own.
/// </summary>
public sealed class RequestHeadWriterTests : IDisposable
{
    // "admin:secret" in Basic authentication.
    private const string ServerAuthorization = "Authorization: Basic YWRtaW46c2VjcmV0\r\n";

    private readonly List<Connection> _connections = [];

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
    }

    [Fact]
    public void RentOwn_GetProbeToAServerWithCredentials_HostThenTheServersAuthorizationOnly()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://gpu1:11434/api/version");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer not-the-servers");

        var head = RentOwn(request, ServerAuthorization, contentLength: 0);

        head.Should().Be("GET /api/version HTTP/1.1\r\nHost: gpu1:11434\r\n" + ServerAuthorization + "\r\n");
    }

    [Fact]
    public void RentOwn_PostWithContent_ContentLengthThenTheContentsHeaders()
    {
        var body = """{"model":"llama3.2"}"""u8.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://gpu1:11434/base/api/show?verbose=1") { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");

        var head = RentOwn(request, authorization: "", body.Length);

        head.Should().Be($"POST /base/api/show?verbose=1 HTTP/1.1\r\nHost: gpu1:11434\r\nContent-Length: {body.Length}\r\nContent-Type: application/json\r\n\r\n");
    }

    [Fact]
    public void RentForwarded_PostWithClientHeaders_EndToEndFieldsOnly()
    {
        var connection = Connection("http://gpu1:11434/", credentials: null);
        var request = Request("POST", "/api/chat", "?trace=1");
        request.Headers.Append("Host", "proxy.example");
        request.Headers.Append("Content-Type", "application/json");
        request.Headers.Append("Content-Length", "999");
        request.Headers.Append("Connection", "keep-alive, X-Hop");
        request.Headers.Append("X-Hop", "dropped");
        request.Headers.Append("Transfer-Encoding", "chunked");
        request.Headers.Append("Expect", "100-continue");
        request.Headers.Append("Origin", "http://ui.example");
        request.Headers.Append("Authorization", "Bearer client-key");
        request.Headers.Append("X-Name", "caf\u00E9 \U0001F600");
        request.Headers.Append("Accept", new Microsoft.Extensions.Primitives.StringValues(["application/json", "text/plain"]));

        var head = RentForwarded(request, connection, contentLength: 35, stripCredentials: false);

        head.Should().Equal(Encoding.UTF8.GetBytes(
            "POST /api/chat?trace=1 HTTP/1.1\r\nHost: gpu1:11434\r\nContent-Length: 35\r\n" +
            "Content-Type: application/json\r\nAuthorization: Bearer client-key\r\nX-Name: caf\u00E9 \U0001F600\r\n" +
            "Accept: application/json\r\nAccept: text/plain\r\n\r\n"));
    }

    [Fact]
    public void RentForwarded_ToAServerWithCredentials_ClientsKeysStrippedAndTheServersSent()
    {
        UrlCredentials.TrySplit("http://admin:secret@gpu1:11434", out _, out var credentials, out _);
        var connection = Connection("http://gpu1:11434/", credentials);
        var request = Request("GET", "/api/tags", "");
        request.Headers.Append("Authorization", "Bearer client-key");
        request.Headers.Append("x-api-key", "client-key");
        request.Headers.Append("Accept", "*/*");

        var head = RentForwarded(request, connection, contentLength: 0, stripCredentials: true);

        head.Should().Equal(Encoding.ASCII.GetBytes(
            "GET /api/tags HTTP/1.1\r\nHost: gpu1:11434\r\n" + ServerAuthorization + "Content-Length: 0\r\nAccept: */*\r\n\r\n"));
    }

    [Fact]
    public void RentForwarded_HeadersLongerThanTheFirstBuffer_WrittenWhole()
    {
        var connection = Connection("http://gpu1:11434/", credentials: null);
        var request = Request("POST", "/api/chat", "");
        var large = new string('a', 5000);
        var wide = string.Concat(Enumerable.Repeat("\u20AC", 3000));
        request.Headers.Append("X-Large", large);
        request.Headers.Append("X-Wide", wide);

        var head = RentForwarded(request, connection, contentLength: 2, stripCredentials: false);

        head.Should().Equal(Encoding.UTF8.GetBytes(
            $"POST /api/chat HTTP/1.1\r\nHost: gpu1:11434\r\nContent-Length: 2\r\nX-Large: {large}\r\nX-Wide: {wide}\r\n\r\n"));
    }

    private static HttpRequest Request(string method, string path, string query)
    {
        var request = new DefaultHttpContext().Request;
        request.Method = method;
        request.Path = path;
        request.QueryString = new QueryString(query);
        return request;
    }

    private Connection Connection(string url, UrlCredentials? credentials)
    {
        var connection = new Connection(new ConnectionConfig("gpu1", new Uri(url), IsExplicit: true, credentials), new ConnectionSettings(), position: 1);
        _connections.Add(connection);
        return connection;
    }

    private static byte[] RentForwarded(HttpRequest request, Connection connection, long contentLength, bool stripCredentials)
    {
        var buffer = RequestHeadWriter.RentForwarded(request, connection, contentLength, stripCredentials, requestId: null, out var length);
        var head = buffer.AsSpan(0, length).ToArray();
        RequestHeadWriter.Return(buffer);
        return head;
    }

    private static string RentOwn(HttpRequestMessage request, string authorization, int contentLength)
    {
        var buffer = RequestHeadWriter.RentOwn(request, Encoding.ASCII.GetBytes(authorization), contentLength, out var length);
        var head = Encoding.Latin1.GetString(buffer, 0, length);
        RequestHeadWriter.Return(buffer);
        return head;
    }
}
