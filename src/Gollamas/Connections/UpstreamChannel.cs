using System.Buffers;
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gollamas.Connections;

/// <summary>
/// One HTTP/1.1 channel (a TCP, and TLS, connection) to an Ollama server, used by one request at a time. It does only
/// what a pass-through proxy needs: write a request head and a body held in memory, read the
/// response head, and hand out the body de-framed as it arrives. While a stream is idle it holds
/// no buffer (a zero-byte read waits for data), and reading a chunk allocates nothing. The
/// protocol itself is pure code apart from it: <see cref="ResponseHeadParser"/> for the head,
/// <see cref="ChunkedDecoder"/> for chunked bodies; this class owns the socket, TLS and the
/// read buffer, and orchestrates them.
/// </summary>
/// <remarks>
/// Measured against <c>SocketsHttpHandler</c> on the hot path (see the commit introducing this
/// type): the general client costs most of the proxy's CPU per small request and keeps pooled
/// buffers per open stream; a proxy needs none of its generality (redirects, decompression,
/// cookies, HTTP/2, header validation).
/// </remarks>
internal sealed class UpstreamChannel : IDisposable
{
    private const int BufferSize = 16 * 1024;

    private const int MaxInterimResponses = 10;

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly ChunkedDecoder _chunked = new();

    private byte[]? _buffer;
    private int _start;
    private int _end;

    private BodyFraming _framing;
    private long _remaining;
    private bool _keepAlive;
    private bool _bodyDone;

    // TLS only: the zero-byte read CheckIdle started as the channel left the pool.
    private ValueTask<int> _idleRead;
    private bool _idleReadArmed;

    /// <summary>Wraps a connected socket and the stream over it (a <see cref="NetworkStream"/>, or TLS over one).</summary>
    internal UpstreamChannel(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    /// <summary>Whether this channel served an earlier request (a failure may then be a stale channel).</summary>
    public bool IsReused { get; set; }

    /// <summary>When the channel went back to the pool (Stopwatch ticks).</summary>
    public long IdleSince { get; private set; }

    /// <summary>Whether the last response was read to its end on a channel the server keeps open.</summary>
    public bool CanReuse => _keepAlive && _bodyDone && _start == _end;

    /// <summary>
    /// Whether bytes came after the end of the last response, in the same read: a pipelined or
    /// unsolicited response. The channel cannot be reused, whatever the server said.
    /// </summary>
    public bool HasBytesPastResponse => _bodyDone && _start != _end;

    /// <summary>Opens a TCP (and, for https, TLS) connection to <paramref name="baseUri"/>'s host.</summary>
    public static ValueTask<UpstreamChannel> ConnectAsync(Uri baseUri, CancellationToken cancellationToken) =>
        ConnectAsync(baseUri, trustedCertificates: null, cancellationToken);

    /// <summary>
    /// Opens a TCP (and, for https, TLS) connection to <paramref name="baseUri"/>'s host; an
    /// HTTPS server's certificate must chain to one of <paramref name="trustedCertificates"/>
    /// when given (a private CA, which publishes no revocation list: revocation is not checked
    /// then), else to the system's roots.
    /// </summary>
    public static async ValueTask<UpstreamChannel> ConnectAsync(Uri baseUri, X509Certificate2Collection? trustedCertificates, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        CertificateCheck? check = null;
        try
        {
            await socket.ConnectAsync(baseUri.IdnHost, baseUri.Port, cancellationToken);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (string.Equals(baseUri.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
            {
                check = new CertificateCheck(trustedCertificates is not null);
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                await tls.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = baseUri.IdnHost,
                        ApplicationProtocols = [SslApplicationProtocol.Http11],
                        CertificateChainPolicy = trustedCertificates is null ? null : PrivateTrust(trustedCertificates),
                        RemoteCertificateValidationCallback = check.Validate,
                    },
                    cancellationToken);
                stream = tls;
            }

            return new UpstreamChannel(socket, stream);
        }
        catch (Exception ex) when (check is not null && IsHandshakeFailure(ex, cancellationToken))
        {
            // A failed TLS handshake (a certificate this machine does not trust, no common
            // protocol, a server that does not speak TLS) leaves the server as unreachable as a
            // refused connection: an IOException, which every caller turns into "unreachable"
            // (502, failover, left out of a list). Its words are ours: the runtime's are resource
            // keys in the published binary.
            socket.Dispose();
            throw new UpstreamConnectionException(
                check!.Failed
                    ? check.Describe(DateTime.UtcNow)
                    : ex is AuthenticationException
                        ? "the TLS handshake failed: no TLS version or cipher in common with the server, or it asks for a client certificate"
                        : "the server closed the connection during the TLS handshake: does it speak HTTPS?",
                ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // A handshake refused (AuthenticationException) or cut (an IOException not caused by the
    // socket, whose own error says more: reset, timed out).
    private static bool IsHandshakeFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is AuthenticationException
        || (ex is IOException && ex.InnerException is not SocketException && !cancellationToken.IsCancellationRequested);

    /// <summary>
    /// Whether a pooled channel may carry another request. Nothing may have arrived since the
    /// last response ended: bytes there (an unsolicited or late response) would be read as the
    /// next request's answer, that request's answer as the one after it, and so on, one user's
    /// completion delivered to another. Go's Transport closes such a connection too
    /// ("Unsolicited response received on idle HTTP channel", net/http/transport.go). Checked at
    /// every reuse whatever the idle time, without waiting.
    /// </summary>
    /// <remarks>
    /// Over TLS a <see cref="IdleCheck.Usable"/> answer leaves a zero-byte read pending, which the
    /// first read of the next response awaits: the pool calls this once, as it hands the
    /// channel out.
    /// </remarks>
    public IdleCheck CheckIdle(TimeSpan maxIdle)
    {
        if (Stopwatch.GetElapsedTime(IdleSince) > maxIdle)
        {
            return IdleCheck.Expired;
        }

        try
        {
            // Readable while idle: bytes (data, or a TLS record) or the server's FIN. One poll(2).
            if (_socket.Poll(0, SelectMode.SelectRead))
            {
                return IdleCheck.Readable;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return IdleCheck.Readable;
        }

        if (_stream is SslStream)
        {
            // Bytes SslStream took off the socket with the last response (a record read beyond the
            // body's end) are out of the poll's sight. A zero-byte read returns at once if it holds
            // any; otherwise it waits on the socket for the next record, the answer to come.
            if (!_idleReadArmed)
            {
                // Kept in a field on purpose (CA2012): consumed once, by the await in FillAsync,
                // or dropped with the connection; AsTask() would allocate a Task per request.
#pragma warning disable CA2012
                _idleRead = _stream.ReadAsync(Memory<byte>.Empty);
#pragma warning restore CA2012
                _idleReadArmed = true;
            }

            if (_idleRead.IsCompleted)
            {
                return IdleCheck.Readable;
            }
        }

        return IdleCheck.Usable;
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
    public async ValueTask SendAsync(ReadOnlyMemory<byte> head, Bodies.ForwardBody body, CancellationToken cancellationToken)
    {
        _framing = BodyFraming.None;
        _bodyDone = false;
        _keepAlive = false;
        var total = head.Length + body.Length;
        if (body.Spooled is not null && total > BufferSize)
        {
            await Bodies.SpooledBodyWriter.WriteAsync(_stream, head, body, cancellationToken);
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
            UpstreamResponseHead? head;
            int headLength;
            while (!ResponseHeadParser.TryParse(_buffer.AsSpan(_start, _end - _start), isHeadRequest, out headLength, out head))
            {
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
                        ? new UpstreamConnectionException("the connection closed in the middle of the response head")
                        : new EndOfStreamException("the connection closed before any response");
                }

                anyByte = true;
            }

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
            _chunked.Reset();
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

        throw new UpstreamConnectionException("the server closed the connection before the end of the response body");
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

    private int DecodeChunked(Span<byte> destination)
    {
        var copied = _chunked.Decode(_buffer.AsSpan(_start, _end - _start), destination, out var consumed);
        _start += consumed;
        _bodyDone = _chunked.IsComplete;
        return copied;
    }

    /// <summary>Reads more bytes into the buffer (renting it, or making room); 0 at end of stream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> FillAsync(CancellationToken cancellationToken)
    {
        if (_idleReadArmed)
        {
            // The first read after a reuse over TLS: the read CheckIdle started waits for the
            // answer (SslStream allows one read at a time). It was started without this request's
            // token, so the wait observes it here: a request cancelled (client gone, idle timeout,
            // drain) ends now, and its caller drops the channel with the read still pending. The
            // Task costs an allocation only when the answer is not there yet.
            _idleReadArmed = false;
            if (_idleRead.IsCompleted)
            {
                await _idleRead;
            }
            else
            {
                await _idleRead.AsTask().WaitAsync(cancellationToken);
            }
        }

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
                // A head larger than the buffer: grow (ResponseHeadParser stops it at 64 KiB).
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

    private static X509ChainPolicy PrivateTrust(X509Certificate2Collection certificates)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(certificates);
        return policy;
    }
}
