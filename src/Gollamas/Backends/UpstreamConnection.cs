using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;

namespace Gollamas.Backends;

/// <summary>
/// One HTTP/1.1 connection to an Ollama server, used by one request at a time. It does only
/// what a pass-through proxy needs: write a request head and a body held in memory, parse the
/// response head, and hand out the body de-framed as it arrives. While a stream is idle it holds
/// no buffer (a zero-byte read waits for data), and reading a chunk allocates nothing.
/// </summary>
/// <remarks>
/// Measured against <c>SocketsHttpHandler</c> on the hot path (see the commit introducing this
/// type): the general client costs most of the proxy's CPU per small request and keeps pooled
/// buffers per open stream; a proxy needs none of its generality (redirects, decompression,
/// cookies, HTTP/2, header validation).
/// </remarks>
internal sealed class UpstreamConnection : IDisposable
{
    private const int BufferSize = 16 * 1024;

    // Ollama's heads are a few hundred bytes; 64 KiB is generous and bounds a hostile server.
    private const int MaxHeadBytes = 64 * 1024;

    private const int MaxInterimResponses = 10;

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

    private readonly Socket _socket;
    private readonly Stream _stream;

    private byte[]? _buffer;
    private int _start;
    private int _end;

    private BodyFraming _framing;
    private ChunkState _chunkState;
    private long _remaining;
    private bool _keepAlive;
    private bool _bodyDone;

    private UpstreamConnection(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    /// <summary>Whether this connection served an earlier request (a failure may then be a stale connection).</summary>
    public bool IsReused { get; set; }

    /// <summary>How long a connection idles before a reuse first checks that the server has not closed it.</summary>
    public static readonly TimeSpan FinCheckAfter = TimeSpan.FromSeconds(1);

    /// <summary>When the connection went back to the pool (Stopwatch ticks).</summary>
    public long IdleSince { get; private set; }

    /// <summary>Whether the last response was read to its end on a connection the server keeps open.</summary>
    public bool CanReuse => _keepAlive && _bodyDone && _start == _end;

    /// <summary>Opens a TCP (and, for https, TLS) connection to <paramref name="baseUri"/>'s host.</summary>
    public static async ValueTask<UpstreamConnection> ConnectAsync(Uri baseUri, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(baseUri.IdnHost, baseUri.Port, cancellationToken);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (string.Equals(baseUri.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                await tls.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = baseUri.IdnHost,
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                    },
                    cancellationToken);
                stream = tls;
            }

            return new UpstreamConnection(socket, stream);
        }
        catch (AuthenticationException ex)
        {
            // A failed TLS handshake (a certificate this machine does not trust, no common
            // protocol) leaves the server as unreachable as a refused connection: an IOException,
            // which every caller turns into "unreachable" (502, failover, left out of a list).
            socket.Dispose();
            throw new IOException($"TLS handshake with {baseUri.IdnHost} failed: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether a pooled connection may carry another request: the server has not closed it
    /// (a readable idle socket means a FIN or unexpected bytes) and it has not idled too long.
    /// </summary>
    public bool IsUsable(TimeSpan maxIdle)
    {
        var idle = Stopwatch.GetElapsedTime(IdleSince);
        if (idle > maxIdle)
        {
            return false;
        }

        // A server closes a keep-alive connection after it idled (or when it restarts), not within
        // a second of answering on it. Under load connections come back within microseconds, and
        // the poll would be one system call in six per request; a close it would have caught is
        // an end of stream before the answer, and that request goes once more on a new connection.
        if (idle < FinCheckAfter)
        {
            return true;
        }

        try
        {
            return !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public void MarkIdle()
    {
        ReturnBuffer();
        IdleSince = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Writes the request: <paramref name="head"/> (request line and headers, ending in an empty
    /// line) and the body. A small body goes out in the same write as the head; a large one is
    /// written segment by segment from where its bytes lie (a body in a temporary file, through
    /// one pooled buffer).
    /// </summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> head, Forwarding.ForwardBody body, CancellationToken cancellationToken)
    {
        _framing = BodyFraming.None;
        _bodyDone = false;
        _keepAlive = false;
        var total = head.Length + body.Length;
        if (body.Spooled is not null && total > BufferSize)
        {
            await Forwarding.SpooledBodyWriter.WriteAsync(_stream, head, body, cancellationToken);
        }
        else if (total <= BufferSize)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)total);
            try
            {
                head.Span.CopyTo(buffer);
                body.CopyTo(buffer.AsSpan(head.Length));
                await _stream.WriteAsync(buffer.AsMemory(0, (int)total), cancellationToken);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        else
        {
            // Large: a big segment is written where it lies (never copied); the head and the
            // small pieces around it (a spliced value, the rest of the body after it) are
            // gathered into one buffer, so a splice costs no system call of its own.
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                var buffered = 0;
                if (head.Length <= BufferSize)
                {
                    head.Span.CopyTo(buffer);
                    buffered = head.Length;
                }
                else
                {
                    // Client headers may be up to Kestrel's 32 KiB.
                    await _stream.WriteAsync(head, cancellationToken);
                }

                for (var i = 0; i < body.SegmentCount; i++)
                {
                    var segment = body.GetSegment(i);
                    if (segment.Length <= BufferSize - buffered)
                    {
                        segment.Span.CopyTo(buffer.AsSpan(buffered));
                        buffered += segment.Length;
                        continue;
                    }

                    if (buffered > 0)
                    {
                        await _stream.WriteAsync(buffer.AsMemory(0, buffered), cancellationToken);
                        buffered = 0;
                    }

                    if (segment.Length <= BufferSize)
                    {
                        segment.Span.CopyTo(buffer);
                        buffered = segment.Length;
                    }
                    else
                    {
                        await _stream.WriteAsync(segment, cancellationToken);
                    }
                }

                if (buffered > 0)
                {
                    await _stream.WriteAsync(buffer.AsMemory(0, buffered), cancellationToken);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        await _stream.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the response head, skipping interim 1xx responses. Throws <see cref="IOException"/>
    /// when the connection ends first (<see cref="EndOfStreamException"/> if no byte came at all),
    /// <see cref="UpstreamProtocolException"/> for anything that is not HTTP/1.1.
    /// </summary>
    public async ValueTask<UpstreamResponseHead> ReadResponseHeadAsync(bool isHeadRequest, CancellationToken cancellationToken)
    {
        var anyByte = _start != _end;
        var interim = 0;
        while (true)
        {
            int headLength;
            while ((headLength = FindHeadEnd()) < 0)
            {
                if (_end - _start >= MaxHeadBytes)
                {
                    throw new UpstreamProtocolException("response head larger than 64 KiB");
                }

                int read;
                try
                {
                    read = await FillAsync(cancellationToken);
                }
                catch (IOException ex) when (!anyByte)
                {
                    throw new EndOfStreamException("the connection broke before any response", ex);
                }

                if (read == 0)
                {
                    throw anyByte
                        ? new IOException("the connection closed in the middle of the response head")
                        : new EndOfStreamException("the connection closed before any response");
                }

                anyByte = true;
            }

            var head = ParseHead(_buffer.AsSpan(_start, headLength), isHeadRequest);
            _start += headLength;
            if (head is null)
            {
                // An interim 1xx response; the real one follows. Bounded, as Go's client does, so
                // a server cannot keep the proxy reading interim heads forever.
                if (++interim > MaxInterimResponses)
                {
                    throw new UpstreamProtocolException("too many interim (1xx) responses");
                }

                continue;
            }

            _framing = head.Framing;
            _remaining = head.ContentLength;
            _chunkState = ChunkState.Size;
            _keepAlive = head.KeepAlive;
            _bodyDone = head.Framing == BodyFraming.None || (head.Framing == BodyFraming.ContentLength && head.ContentLength == 0);
            return head;
        }
    }

    /// <summary>
    /// Completes when body bytes may be read. If nothing is buffered, the buffer goes back to
    /// the pool first and a zero-byte read waits on the socket, so an idle stream holds no memory.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WaitForDataAsync(CancellationToken cancellationToken)
    {
        if (_bodyDone || _start != _end)
        {
            return;
        }

        ReturnBuffer();
        _ = await _stream.ReadAsync(Memory<byte>.Empty, cancellationToken);
    }

    /// <summary>
    /// Copies the next body bytes, de-framed, into <paramref name="destination"/>; 0 at the end
    /// of the body. Throws <see cref="IOException"/> when the connection ends before the body does.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadBodyAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (!_bodyDone)
        {
            if (_start != _end)
            {
                var copied = _framing == BodyFraming.Chunked ? DecodeChunked(destination.Span) : CopyPlain(destination.Span);
                if (copied > 0 || _bodyDone)
                {
                    return copied;
                }
            }
            else if (_framing != BodyFraming.Chunked)
            {
                // Nothing buffered and no framing to strip: read straight into the destination.
                ReturnBuffer();
                var limit = _framing == BodyFraming.ContentLength ? (int)Math.Min(destination.Length, _remaining) : destination.Length;
                var read = await _stream.ReadAsync(destination[..limit], cancellationToken);
                if (read == 0)
                {
                    return EndOfConnection();
                }

                Consumed(read);
                return read;
            }

            if (await FillAsync(cancellationToken) == 0)
            {
                return EndOfConnection();
            }
        }

        return 0;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
        ReturnBuffer();
    }

    private int EndOfConnection()
    {
        if (_framing == BodyFraming.UntilClose)
        {
            _bodyDone = true;
            _keepAlive = false;
            return 0;
        }

        throw new IOException("the server closed the connection before the end of the response body");
    }

    private int CopyPlain(Span<byte> destination)
    {
        var available = _end - _start;
        var count = Math.Min(available, destination.Length);
        if (_framing == BodyFraming.ContentLength)
        {
            count = (int)Math.Min(count, _remaining);
        }

        _buffer.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        Consumed(count);
        return count;
    }

    private void Consumed(int count)
    {
        if (_framing == BodyFraming.ContentLength)
        {
            _remaining -= count;
            _bodyDone = _remaining == 0;
        }
    }

    /// <summary>
    /// Strips chunked framing (RFC 9112 §7.1) from the buffered bytes into <paramref name="destination"/>.
    /// Returns the data bytes copied; stops early when a size line or CRLF is not complete yet.
    /// </summary>
    private int DecodeChunked(Span<byte> destination)
    {
        var copied = 0;
        try
        {
            DecodeChunked(destination, ref copied);
        }
        catch (UpstreamProtocolException) when (copied > 0)
        {
            // Hand over the data decoded before the bad framing; the buffer still starts at the
            // bad bytes, so the next call throws. Otherwise that data would be lost, though it
            // came whole (in a stream, the last good record before the in-band error).
        }

        return copied;
    }

    private void DecodeChunked(Span<byte> destination, ref int copied)
    {
        while (_start != _end && !_bodyDone)
        {
            var buffered = _buffer.AsSpan(_start, _end - _start);
            switch (_chunkState)
            {
                case ChunkState.Size:
                {
                    var lineEnd = buffered.IndexOf("\r\n"u8);
                    if (lineEnd < 0)
                    {
                        ThrowIfLineTooLong(buffered);
                        return;
                    }

                    _remaining = ParseChunkSize(buffered[..lineEnd]);
                    _start += lineEnd + 2;
                    _chunkState = _remaining == 0 ? ChunkState.Trailer : ChunkState.Data;
                    break;
                }

                case ChunkState.Data:
                {
                    if (copied == destination.Length)
                    {
                        return;
                    }

                    var count = (int)Math.Min(Math.Min(buffered.Length, destination.Length - copied), _remaining);
                    buffered[..count].CopyTo(destination[copied..]);
                    copied += count;
                    _start += count;
                    _remaining -= count;
                    if (_remaining == 0)
                    {
                        _chunkState = ChunkState.DataEnd;
                    }

                    break;
                }

                case ChunkState.DataEnd:
                {
                    if (buffered.Length < 2)
                    {
                        return;
                    }

                    if (buffered[0] != (byte)'\r' || buffered[1] != (byte)'\n')
                    {
                        throw new UpstreamProtocolException("chunk data not followed by CRLF");
                    }

                    _start += 2;
                    _chunkState = ChunkState.Size;
                    break;
                }

                case ChunkState.Trailer:
                {
                    var lineEnd = buffered.IndexOf("\r\n"u8);
                    if (lineEnd < 0)
                    {
                        ThrowIfLineTooLong(buffered);
                        return;
                    }

                    _start += lineEnd + 2;
                    _bodyDone = lineEnd == 0; // the empty line after the (usually absent) trailer fields
                    break;
                }
            }
        }
    }

    private static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        var extension = line.IndexOf((byte)';');
        var digits = (extension >= 0 ? line[..extension] : line).TrimEnd(" \t"u8);
        if (digits.IsEmpty || digits.Length > 15 || !Utf8Parser.TryParse(digits, out long size, out var consumed, 'x') || consumed != digits.Length)
        {
            throw new UpstreamProtocolException("invalid chunk size");
        }

        return size;
    }

    private static void ThrowIfLineTooLong(ReadOnlySpan<byte> partial)
    {
        if (partial.Length > 4096)
        {
            throw new UpstreamProtocolException("chunk size or trailer line longer than 4 KiB");
        }
    }

    private int FindHeadEnd()
    {
        if (_buffer is null || _start == _end)
        {
            return -1;
        }

        var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
        return end < 0 ? -1 : end + 4;
    }

    /// <summary>Reads more bytes into the buffer (renting it, or making room); 0 at end of stream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> FillAsync(CancellationToken cancellationToken)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            var length = _end - _start;
            if (_start == 0)
            {
                // A head larger than the buffer: grow (bounded by MaxHeadBytes in the caller).
                var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                _buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
            else
            {
                _buffer.AsSpan(_start, length).CopyTo(_buffer);
                _start = 0;
                _end = length;
            }
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read;
    }

    private void ReturnBuffer()
    {
        if (_buffer is not null && _start == _end)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _start = _end = 0;
        }
    }

    /// <summary>Parses one response head; null for an interim (1xx) response.</summary>
    private static UpstreamResponseHead? ParseHead(ReadOnlySpan<byte> head, bool isHeadRequest)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = head[..lineEnd];

        // "HTTP/1.1 200 OK": version, one space, three digits, then an optional reason. Only digits:
        // the number parser alone would take "+20" or "-20", which the client side cannot send on.
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
        var keepAlive = !http10;
        var chunked = false;
        var transferEncoding = false;
        long contentLength = -1;
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
                transferEncoding = true;
                chunked = IsLastTokenChunked(valueBytes);
            }
            else if (Ascii.EqualsIgnoreCase(nameBytes, "Connection"u8))
            {
                if (ContainsToken(valueBytes, "close"u8))
                {
                    keepAlive = false;
                }
                else if (ContainsToken(valueBytes, "keep-alive"u8))
                {
                    keepAlive = true;
                }
            }

            headers.Add(new KeyValuePair<string, string>(Intern(nameBytes, s_knownNames), Intern(valueBytes, s_knownValues)));
        }

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

        return new UpstreamResponseHead(status, headers, framing, contentLength, keepAlive);
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

    private enum ChunkState
    {
        Size,
        Data,
        DataEnd,
        Trailer,
    }
}
