using System.Buffers;
using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Text;
using Gollamas.Security;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Connections;

/// <summary>
/// Writes the request line and header block of every upstream HTTP/1.1 request, into an array
/// rented from <see cref="ArrayPool{T}.Shared"/> that grows (into a larger rented one) only for
/// a long head: once the pool is warm a head allocates nothing. Two kinds of request use it,
/// so both put the same fields in the same bytes: a client's request forwarded to a server
/// (<see cref="RentForwarded"/>) and the proxy's own (<see cref="RentOwn"/>: probes, /api/ps,
/// preloads, the lists it merges).
/// </summary>
/// <remarks>
/// The method is ASCII (a token).
/// The client's path and query go out one byte per char, as do header names (tokens, which
/// Kestrel checked): Kestrel refuses other bytes there. Header values are not Latin-1: Kestrel
/// decodes them as UTF-8 (and refuses invalid UTF-8), so UTF-8 gives back the client's very bytes.
/// The Host of a forwarded request comes from <see cref="Connection.FixedRequestHeaders"/>, encoded once (ASCII); that
/// of the proxy's own is the request URI's authority, one byte per char: the same bytes for any
/// ASCII name, which an IDN name in its Unicode form is not.
/// </remarks>
internal ref struct RequestHeadWriter
{
    // Room for the header fields of a usual client past the request line (an SDK sends some 600 bytes).
    private const int FieldsAllowance = 1024;

    private byte[] _buffer;
    private int _length;

    /// <param name="lineLength">About the length of the request line and of the fields known ahead.</param>
    private RequestHeadWriter(int lineLength) => _buffer = ArrayPool<byte>.Shared.Rent(lineLength + FieldsAllowance);

    private static ReadOnlySpan<byte> NewLine => "\r\n"u8;

    /// <summary>
    /// The head of a client's request forwarded to <paramref name="connection"/>: the client's method,
    /// path and query (Ollama's API is at the server's root), the server's Host (and Authorization, for a
    /// URL with credentials), the length of the body actually sent, and every end-to-end header
    /// of the client (<see cref="HeaderFilter"/>; the fields its Connection header names are
    /// hop-by-hop too), the request's id in place of any the client sent.
    /// </summary>
    /// <param name="stripCredentials">Whether the client's Authorization and x-api-key stay here.</param>
    /// <param name="requestId">
    /// The request's id (<see cref="Diagnostics.RequestId"/>: the client's when sane, else the
    /// proxy's), sent as <c>X-Request-Id</c>; null sends none.
    /// </param>
    /// <returns>The rented buffer, the head in its first <paramref name="length"/> bytes; give it to <see cref="Return"/> once sent.</returns>
    public static byte[] RentForwarded(HttpRequest request, Connection connection, long contentLength, bool stripCredentials, string? requestId, out int length)
    {
        var path = request.Path.Value!;
        var query = request.QueryString.Value ?? string.Empty;
        var head = new RequestHeadWriter(request.Method.Length + path.Length + query.Length + connection.FixedRequestHeaders.Length + (requestId?.Length ?? 0) + 80);
        head.WriteRequestLine(request.Method, path, query);
        head.Write(connection.FixedRequestHeaders.Span);
        head.WriteContentLength(contentLength);
        if (requestId is not null)
        {
            // Visible ASCII only (RequestId.IsSane, or the proxy's own).
            head.Write("X-Request-Id: "u8);
            head.WriteAscii(requestId);
            head.Write(NewLine);
        }

        var headers = request.Headers;
        var connectionHeader = headers.Connection;
        foreach (var (name, values) in headers)
        {
            if (!HeaderFilter.IsForwardedRequestHeader(name)
                || (stripCredentials && ApiKeys.IsKeyHeader(name))
                || (connectionHeader.Count > 0 && HeaderFilter.IsNamedInConnection(connectionHeader, name))
                || (connection.FixedHeaderNames.Length > 0 && connection.SetsHeader(name)))
            {
                continue;
            }

            foreach (var value in values)
            {
                head.WriteField(name, value ?? string.Empty);
            }
        }

        return head.Complete(out length);
    }

    /// <summary>
    /// The head of one of the proxy's own requests: request line, Host, the server's
    /// <paramref name="authorization"/> field line if it has one, Content-Length when there is a
    /// body (or the method expects one), then the request's and its content's own headers.
    /// </summary>
    /// <param name="authorization">
    /// The Authorization field line (CRLF included) of a server whose URL carries credentials, else
    /// empty; it replaces any Authorization of the request.
    /// </param>
    /// <returns>The rented buffer, the head in its first <paramref name="length"/> bytes; give it to <see cref="Return"/> once sent.</returns>
    public static byte[] RentOwn(HttpRequestMessage request, ReadOnlySpan<byte> authorization, int contentLength, out int length)
    {
        var uri = request.RequestUri!;
        var head = new RequestHeadWriter(uri.OriginalString.Length + authorization.Length + 64);
        head.WriteRequestLine(request.Method.Method, uri.PathAndQuery, query: string.Empty);
        head.Write("Host: "u8);
        head.WriteLatin1(uri.Authority);
        head.Write(NewLine);
        head.Write(authorization);
        if (request.Content is not null || request.Method == HttpMethod.Post || request.Method == HttpMethod.Put)
        {
            head.WriteContentLength(contentLength);
        }

        head.WriteFields(request.Headers.NonValidated, skipAuthorization: authorization.Length != 0);
        if (request.Content is not null)
        {
            head.WriteFields(request.Content.Headers.NonValidated, skipAuthorization: false);
        }

        return head.Complete(out length);
    }

    /// <summary>Gives back a buffer from <see cref="RentForwarded"/> or <see cref="RentOwn"/>.</summary>
    public static void Return(byte[] head) => ArrayPool<byte>.Shared.Return(head);

    private void WriteRequestLine(string method, string path, string query)
    {
        WriteAscii(method);
        Write(" "u8);
        WriteLatin1(path);
        WriteLatin1(query);
        Write(" HTTP/1.1\r\n"u8);
    }

    private void WriteContentLength(long contentLength)
    {
        Write("Content-Length: "u8);
        Reserve(20);
        Utf8Formatter.TryFormat(contentLength, _buffer.AsSpan(_length), out var written);
        _length += written;
        Write(NewLine);
    }

    // The proxy's own requests never carry Host or Content-Length of their own: both are written above.
    private void WriteFields(HttpHeadersNonValidated headers, bool skipAuthorization)
    {
        foreach (var (name, values) in headers)
        {
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase)
                || string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase)
                || (skipAuthorization && string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            foreach (var value in values)
            {
                WriteField(name, value);
            }
        }
    }

    private void WriteField(string name, string value)
    {
        WriteLatin1(name);
        Write(": "u8);
        if (!Encoding.UTF8.TryGetBytes(value, _buffer.AsSpan(_length), out var written))
        {
            Reserve(Encoding.UTF8.GetMaxByteCount(value.Length));
            written = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
        }

        _length += written;
        Write(NewLine);
    }

    private byte[] Complete(out int length)
    {
        Write(NewLine);
        length = _length;
        return _buffer;
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void WriteAscii(string text)
    {
        Reserve(text.Length);
        _length += Encoding.ASCII.GetBytes(text, _buffer.AsSpan(_length));
    }

    private void WriteLatin1(string text)
    {
        Reserve(text.Length);
        _length += Encoding.Latin1.GetBytes(text, _buffer.AsSpan(_length));
    }

    private void Reserve(int count)
    {
        if (_buffer.Length - _length >= count)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
