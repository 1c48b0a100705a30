using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gollamas.Tests.Fakes;

/// <summary>
/// A socket-level HTTP/1.1 server on 127.0.0.1 (port 0) for faults Kestrel will not produce: truncated chunked
/// bodies, resets mid-body, a server that accepts and never answers. Each connection serves one request: the
/// head (up to CRLFCRLF) and the body (Content-Length or chunked) are read and recorded, then the test's
/// responder writes whatever bytes it likes; the connection is closed when the responder returns.
/// </summary>
/// <example>
/// <code>
/// await using var raw = RawLoopbackServer.Start(async (stream, ct) =>
/// {
///     await RawLoopbackServer.WriteAsciiAsync(stream,
///         "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n" +
///         "5\r\n{}\n\n\r\n", ct);
///     // returning closes the socket without the terminating 0-length chunk
/// });
/// </code>
/// </example>
public sealed class RawLoopbackServer : IAsyncDisposable
{
    private const int MaxHeadBytes = 64 * 1024;

    private readonly Func<Stream, CancellationToken, Task> _respond;
    private readonly Lock _lock = new();
    private readonly List<RawRequest> _requests = [];
    private readonly List<(Func<RawRequest, bool> Predicate, TaskCompletionSource<RawRequest> Signal)> _waiters = [];
    private readonly LoopbackListener _listener;
    private int _disposed;

    private RawLoopbackServer(Func<Stream, CancellationToken, Task> respond)
    {
        _respond = respond;
        _listener = new LoopbackListener(nameof(RawLoopbackServer), (stream, _, cancellationToken) => ServeAsync(stream, cancellationToken));
    }

    /// <summary>The bound address with a trailing slash, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUri => _listener.BaseUri;

    /// <summary>A thread-safe snapshot of every request read so far, in arrival order.</summary>
    public IReadOnlyList<RawRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>
    /// Starts a server whose every connection, after its request was read, is handed to <paramref name="respond"/>
    /// (the network stream and a token cancelled when the server stops). The socket is closed when it returns.
    /// </summary>
    public static RawLoopbackServer Start(Func<Stream, CancellationToken, Task> respond)
    {
        ArgumentNullException.ThrowIfNull(respond);
        return new RawLoopbackServer(respond);
    }

    /// <summary>Starts a server that reads each request and then never answers, holding the connection until disposed.</summary>
    public static RawLoopbackServer StartSilent() =>
        new(static (_, cancellationToken) => Task.Delay(Timeout.Infinite, cancellationToken));

    /// <summary>A loopback URI on which nothing listens (bound, read back and closed), for "connection refused".</summary>
    /// <remarks>Another process could grab the port in between; on a test machine that is vanishingly rare.</remarks>
    public static Uri ClosedPortUri()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return LoopbackListener.UriFor(socket);
    }

    /// <summary>Writes <paramref name="text"/> as ASCII bytes and flushes.</summary>
    public static async Task WriteAsciiAsync(Stream stream, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Closes the connection behind <paramref name="stream"/> with a TCP RST instead of a FIN.</summary>
    public static void Reset(Stream stream)
    {
        if (stream is not NetworkStream network)
        {
            throw new ArgumentException("Only the NetworkStream handed to a responder can be reset.", nameof(stream));
        }

        // Linger on with a zero timeout makes Close discard unsent data and send RST (RFC 793 abort).
        network.Socket.LingerState = new LingerOption(enable: true, seconds: 0);
        network.Socket.Close();
    }

    /// <summary>
    /// Completes with the first request, already read or still to come, that matches <paramref name="predicate"/>
    /// (any request when null). Fails if the server is disposed first.
    /// </summary>
    public Task<RawRequest> WaitForRequestAsync(Func<RawRequest, bool>? predicate = null)
    {
        predicate ??= static _ => true;
        lock (_lock)
        {
            foreach (var request in _requests)
            {
                if (predicate(request))
                {
                    return Task.FromResult(request);
                }
            }

            if (_disposed != 0)
            {
                return Task.FromException<RawRequest>(new ObjectDisposedException(nameof(RawLoopbackServer)));
            }

            var signal = new TaskCompletionSource<RawRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((predicate, signal));
            return signal.Task;
        }
    }

    /// <summary>Fails the waiters still waiting, stops accepting, closes every connection and rethrows responder failures.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var (_, signal) in _waiters)
            {
                signal.TrySetException(new InvalidOperationException("Raw server stopped before a request arrived."));
            }

            _waiters.Clear();
        }

        await _listener.DisposeAsync();
    }

    private async Task ServeAsync(Stream stream, CancellationToken cancellationToken)
    {
        var request = await ReadRequestAsync(stream, cancellationToken);
        if (request is null)
        {
            return;
        }

        Record(request);
        await _respond(stream, cancellationToken);
    }

    private void Record(RawRequest request)
    {
        List<TaskCompletionSource<RawRequest>>? matched = null;
        lock (_lock)
        {
            _requests.Add(request);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Predicate(request))
                {
                    (matched ??= []).Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (matched is not null)
        {
            foreach (var signal in matched)
            {
                signal.TrySetResult(request);
            }
        }
    }

    private static async Task<RawRequest?> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        var reader = new ByteReader(stream);
        var head = await reader.ReadUntilAsync("\r\n\r\n"u8.ToArray(), MaxHeadBytes, cancellationToken);
        if (head is null)
        {
            return null;
        }

        var headText = Encoding.Latin1.GetString(head, 0, head.Length - 4);
        var lines = headText.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 1; i < lines.Length; i++)
        {
            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = lines[i][..colon].Trim();
            var value = lines[i][(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var existing) ? existing + ", " + value : value;
        }

        byte[] body;
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = await ReadChunkedBodyAsync(reader, cancellationToken);
        }
        else if (headers.TryGetValue("Content-Length", out var lengthText) && long.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            body = await reader.ReadExactlyAsync(checked((int)length), cancellationToken);
        }
        else
        {
            body = [];
        }

        return new RawRequest(
            headText,
            requestLine[0],
            requestLine.Length > 1 ? requestLine[1] : string.Empty,
            headers,
            body);
    }

    private static async Task<byte[]> ReadChunkedBodyAsync(ByteReader reader, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await reader.ReadUntilAsync("\r\n"u8.ToArray(), MaxHeadBytes, cancellationToken)
                ?? throw new IOException("Connection closed inside a chunked request body.");
            var sizeText = Encoding.ASCII.GetString(sizeLine, 0, sizeLine.Length - 2).Split(';')[0].Trim();
            var size = int.Parse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                // Trailers (if any) end with an empty line.
                while (true)
                {
                    var trailer = await reader.ReadUntilAsync("\r\n"u8.ToArray(), MaxHeadBytes, cancellationToken)
                        ?? throw new IOException("Connection closed inside chunked trailers.");
                    if (trailer.Length == 2)
                    {
                        return body.ToArray();
                    }
                }
            }

            body.Write(await reader.ReadExactlyAsync(size, cancellationToken));
            await reader.ReadExactlyAsync(2, cancellationToken);
        }
    }

    /// <summary>A minimal buffered reader: the head parser must not consume body bytes it does not return.</summary>
    private sealed class ByteReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start;
        private int _end;

        /// <summary>Returns bytes up to and including <paramref name="delimiter"/>, or null on a clean EOF before any byte.</summary>
        public async Task<byte[]?> ReadUntilAsync(byte[] delimiter, int limit, CancellationToken cancellationToken)
        {
            using var collected = new MemoryStream();
            while (true)
            {
                while (_start < _end)
                {
                    collected.WriteByte(_buffer[_start++]);
                    if (EndsWith(collected, delimiter))
                    {
                        return collected.ToArray();
                    }

                    if (collected.Length > limit)
                    {
                        throw new IOException("Request head too large.");
                    }
                }

                if (!await FillAsync(cancellationToken))
                {
                    return collected.Length == 0 ? null : throw new IOException("Connection closed mid-line.");
                }
            }
        }

        public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
        {
            var result = new byte[count];
            var filled = 0;
            while (filled < count)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    throw new IOException("Connection closed before the whole body arrived.");
                }

                var take = Math.Min(count - filled, _end - _start);
                Array.Copy(_buffer, _start, result, filled, take);
                _start += take;
                filled += take;
            }

            return result;
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            return _end > 0;
        }

        private static bool EndsWith(MemoryStream collected, byte[] delimiter)
        {
            if (collected.Length < delimiter.Length)
            {
                return false;
            }

            var tail = collected.GetBuffer().AsSpan((int)collected.Length - delimiter.Length, delimiter.Length);
            return tail.SequenceEqual(delimiter);
        }
    }
}
