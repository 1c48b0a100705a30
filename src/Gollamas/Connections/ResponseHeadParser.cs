using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Gollamas.Connections;

/// <summary>
/// Parses an HTTP/1.1 response head (RFC 9112 §4, §5, §6.3) from bytes already received: status
/// line, header fields, and how the body that follows is framed. Pure code over a span, apart
/// from the connection, as Kestrel's <c>HttpParser</c> is for requests. Invalid input throws
/// <see cref="UpstreamProtocolException"/> with the reason the client's 502 names.
/// </summary>
internal static class ResponseHeadParser
{
    /// <summary>Ollama's heads are a few hundred bytes; 64 KiB is generous and bounds a hostile server.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    private static readonly string[] s_knownNames =
    [
        "Content-Type", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Date",
        "Cache-Control", "Vary", "Server", "Content-Encoding", "X-Content-Type-Options",
    ];

    private static readonly string[] s_knownValues =
    [
        "application/x-ndjson", "application/json; charset=utf-8", "application/json", "text/event-stream",
        "text/plain; charset=utf-8", "chunked", "keep-alive", "close", "no-cache", "Origin", "nosniff",
    ];

    // RFC 9110 §5.6.2 tchar, and the bytes a field value may hold that Kestrel writes back out
    // (visible ASCII, space, tab).
    private static readonly SearchValues<byte> s_tokenBytes =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    private static readonly SearchValues<byte> s_fieldValueBytes = SearchValues.Create(FieldValueBytes());

    /// <summary>
    /// Parses the head at the start of <paramref name="buffered"/>. False while it is incomplete
    /// (receive more and call again with everything). True once parsed: <paramref name="consumed"/>
    /// is its length up to and including the empty line, and <paramref name="head"/> is null for
    /// an interim (1xx) response, after which the real one follows.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> buffered, bool isHeadRequest, out int consumed, out UpstreamResponseHead? head)
    {
        var end = buffered.IndexOf("\r\n\r\n"u8);
        if (end < 0 || end + 4 > MaxHeadBytes)
        {
            // The same limit whether the end is already here or not, so it does not depend on
            // how the bytes were split across reads.
            if (buffered.Length >= MaxHeadBytes)
            {
                throw new UpstreamProtocolException("response head larger than 64 KiB");
            }

            consumed = 0;
            head = null;
            return false;
        }

        consumed = end + 4;
        head = Parse(buffered[..consumed], isHeadRequest);
        return true;
    }

    /// <summary>Parses one complete head (ending in the empty line); null for an interim (1xx) response.</summary>
    private static UpstreamResponseHead? Parse(ReadOnlySpan<byte> head, bool isHeadRequest)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = head[..lineEnd];

        // "HTTP/1.1 200 OK": version, one space, three digits, then an optional reason (not read:
        // Kestrel writes its own). Only digits: the number parser alone would take "+20" or "-20",
        // which the client side cannot send on.
        if (statusLine.Length < 12
            || !statusLine.StartsWith("HTTP/1."u8)
            || !char.IsAsciiDigit((char)statusLine[7])
            || statusLine[8] != (byte)' '
            || !IsDigits(statusLine.Slice(9, 3))
            || statusLine[9] == (byte)'0'
            || (statusLine.Length > 12 && statusLine[12] != (byte)' '))
        {
            throw new UpstreamProtocolException("invalid status line");
        }

        var status = ((statusLine[9] - '0') * 100) + ((statusLine[10] - '0') * 10) + (statusLine[11] - '0');

        if (status == 101)
        {
            // The proxy never asks for an upgrade (RFC 9110 §15.2.2: a server must not send 101 unasked).
            throw new UpstreamProtocolException("unexpected 101 Switching Protocols");
        }

        if (status < 200)
        {
            return null;
        }

        var http10 = statusLine[7] == (byte)'0';
        var keepAliveAsked = false;
        var closeAsked = false;
        var chunked = false;
        var transferEncoding = false;
        long contentLength = -1;
        string? connectionList = null;
        var headers = new List<KeyValuePair<string, string>>(8);
        var rest = head[(lineEnd + 2)..];
        while (true)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            if (lineEnd <= 0)
            {
                break; // the empty line that ends the head
            }

            var line = rest[..lineEnd];
            rest = rest[(lineEnd + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].ContainsAnyExcept(s_tokenBytes))
            {
                // No name, obsolete line folding (a leading space), white space before the colon
                // (RFC 9112 §5), or any other byte that is not a token character: the response
                // headers could not carry it to the client.
                throw new UpstreamProtocolException("invalid header line");
            }

            var nameBytes = line[..colon];
            var valueBytes = line[(colon + 1)..].Trim(" \t"u8);
            if (valueBytes.ContainsAnyExcept(s_fieldValueBytes))
            {
                // Control characters are invalid (RFC 9110 §5.5), and non-ASCII bytes cannot be
                // written to the client's response headers.
                throw new UpstreamProtocolException("invalid header line");
            }

            if (Ascii.EqualsIgnoreCase(nameBytes, "Content-Length"u8))
            {
                if (!IsDigits(valueBytes) || valueBytes.Length > 18 || !Utf8Parser.TryParse(valueBytes, out long length, out _)
                    || (contentLength >= 0 && contentLength != length))
                {
                    throw new UpstreamProtocolException("invalid Content-Length");
                }

                if (contentLength >= 0)
                {
                    continue; // the same value again (RFC 9112 §6.3): one field reaches the client
                }

                contentLength = length;
            }
            else if (Ascii.EqualsIgnoreCase(nameBytes, "Transfer-Encoding"u8))
            {
                // Chunked must be the final coding (RFC 9112 §6.1); anything else is read to close.
                // Several fields form one list: the last one's last coding is the final one.
                transferEncoding = true;
                chunked = IsLastTokenChunked(valueBytes);
            }
            else if (Ascii.EqualsIgnoreCase(nameBytes, "Connection"u8))
            {
                // "close" in any Connection field ends the connection (RFC 9112 §9.6), whatever
                // another field says.
                closeAsked |= ContainsToken(valueBytes, "close"u8);
                keepAliveAsked |= ContainsToken(valueBytes, "keep-alive"u8);
                var list = Intern(valueBytes, s_knownValues);
                connectionList = connectionList is null ? list : connectionList + "," + list;
                headers.Add(new KeyValuePair<string, string>(Intern(nameBytes, s_knownNames), list));
                continue;
            }

            headers.Add(new KeyValuePair<string, string>(Intern(nameBytes, s_knownNames), Intern(valueBytes, s_knownValues)));
        }

        // HTTP/1.1 persists unless told to close; HTTP/1.0 only when asked to (RFC 9112 §9.3).
        var keepAlive = !closeAsked && (!http10 || keepAliveAsked);
        BodyFraming framing;
        if (isHeadRequest || status is 204 or 304)
        {
            framing = BodyFraming.None;
        }
        else if (transferEncoding)
        {
            // Transfer-Encoding overrides Content-Length, which a proxy must then not pass on
            // (RFC 9112 §6.3): the client would otherwise get a length that is not the body's.
            headers.RemoveAll(static h => string.Equals(h.Key, "Content-Length", StringComparison.OrdinalIgnoreCase));
            contentLength = -1;
            framing = chunked ? BodyFraming.Chunked : BodyFraming.UntilClose;
            keepAlive &= chunked;
        }
        else if (contentLength >= 0)
        {
            framing = BodyFraming.ContentLength;
        }
        else
        {
            framing = BodyFraming.UntilClose;
            keepAlive = false;
        }

        return new UpstreamResponseHead(status, headers, framing, contentLength, keepAlive, connectionList);
    }

    private static bool IsDigits(ReadOnlySpan<byte> bytes) => !bytes.IsEmpty && !bytes.ContainsAnyExceptInRange((byte)'0', (byte)'9');

    private static bool IsLastTokenChunked(ReadOnlySpan<byte> value)
    {
        var comma = value.LastIndexOf((byte)',');
        return Ascii.EqualsIgnoreCase(value[(comma + 1)..].Trim(" \t"u8), "chunked"u8);
    }

    private static bool ContainsToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Returns the shared string for common names and values, so most heads allocate few strings.</summary>
    private static string Intern(ReadOnlySpan<byte> bytes, string[] known)
    {
        foreach (var candidate in known)
        {
            if (candidate.Length == bytes.Length && Ascii.Equals(bytes, candidate))
            {
                return candidate;
            }
        }

        return Encoding.Latin1.GetString(bytes);
    }

    private static byte[] FieldValueBytes()
    {
        var bytes = new byte[96];
        bytes[0] = (byte)'\t';
        for (var i = 1; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(0x20 + i - 1); // space through '~'
        }

        return bytes;
    }
}
