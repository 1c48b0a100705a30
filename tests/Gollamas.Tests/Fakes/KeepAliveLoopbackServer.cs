using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Gollamas.Tests.Fakes;

/// <summary>
/// A socket-level HTTP/1.1 server on 127.0.0.1 that, unlike <c>RawLoopbackServer</c>, serves several requests
/// per connection: for each request read (head and Content-Length body) the responder writes whatever bytes it
/// likes and says whether to keep the connection open for the next request. It records which connection carried
/// which request and when the peer closed a connection.
/// </summary>
internal sealed class KeepAliveLoopbackServer : IAsyncDisposable
{
    private readonly Func<ServedRequest, Stream, CancellationToken, Task<bool>> _respond;
    private readonly Lock _lock = new();
    private readonly List<ServedRequest> _requests = [];
    private readonly Dictionary<int, TaskCompletionSource> _peerClosed = [];
    private readonly LoopbackListener _listener;

    private KeepAliveLoopbackServer(Func<ServedRequest, Stream, CancellationToken, Task<bool>> respond)
    {
        _respond = respond;
        _listener = new LoopbackListener(nameof(KeepAliveLoopbackServer), ServeAsync);
    }

    public Uri BaseUri => _listener.BaseUri;

    /// <summary>Every request read so far, in arrival order.</summary>
    public IReadOnlyList<ServedRequest> Requests
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
    /// Starts a server; <paramref name="respond"/> runs once per request and returns true to read the next request
    /// on the same connection, false to close it.
    /// </summary>
    public static KeepAliveLoopbackServer Start(Func<ServedRequest, Stream, CancellationToken, Task<bool>> respond) => new(respond);

    public static Task WriteAsciiAsync(Stream stream, string text, CancellationToken cancellationToken) =>
        RawLoopbackServer.WriteAsciiAsync(stream, text, cancellationToken);

    /// <summary>Completes when the peer (the proxy) closed connection <paramref name="connection"/> (1-based).</summary>
    public Task WhenPeerClosedAsync(int connection) => PeerClosedSignal(connection).Task;

    /// <summary>Stops accepting, closes every connection and rethrows responder failures.</summary>
    public ValueTask DisposeAsync() => _listener.DisposeAsync();

    private TaskCompletionSource PeerClosedSignal(int connection)
    {
        lock (_lock)
        {
            if (!_peerClosed.TryGetValue(connection, out var signal))
            {
                signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _peerClosed[connection] = signal;
            }

            return signal;
        }
    }

    private async Task ServeAsync(NetworkStream stream, int connection, CancellationToken cancellationToken)
    {
        try
        {
            var reader = new Reader(stream);
            for (var index = 1; ; index++)
            {
                var request = await reader.ReadRequestAsync(connection, index, cancellationToken);
                if (request is null)
                {
                    PeerClosedSignal(connection).TrySetResult();
                    return;
                }

                lock (_lock)
                {
                    _requests.Add(request);
                }

                if (!await _respond(request, stream, cancellationToken))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (LoopbackListener.IsPeerGoneOrStopped(ex))
        {
            PeerClosedSignal(connection).TrySetResult();
        }
    }

    /// <summary>One request: which connection (1-based) carried it, its place there (1-based), head and body.</summary>
    internal sealed record ServedRequest(int Connection, int IndexOnConnection, string Head, byte[] Body)
    {
        public string RequestLine => Head[..Head.IndexOf("\r\n", StringComparison.Ordinal)];
    }

    private sealed class Reader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<ServedRequest?> ReadRequestAsync(int connection, int index, CancellationToken cancellationToken)
        {
            int headEnd;
            while ((headEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
            {
                if (!await FillAsync(cancellationToken))
                {
                    return _start == _end ? null : throw new IOException("connection closed inside a request head");
                }
            }

            var head = Encoding.Latin1.GetString(_buffer, _start, headEnd);
            _start += headEnd + 4;
            var length = 0;
            foreach (var line in head.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    length = int.Parse(line["Content-Length:".Length..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
                }
            }

            var body = new byte[length];
            var filled = 0;
            while (filled < length)
            {
                if (_start == _end && !await FillAsync(cancellationToken))
                {
                    throw new IOException("connection closed inside a request body");
                }

                var take = Math.Min(length - filled, _end - _start);
                Array.Copy(_buffer, _start, body, filled, take);
                _start += take;
                filled += take;
            }

            return new ServedRequest(connection, index, head, body);
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_end == _buffer.Length)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            _end += read;
            return read > 0;
        }
    }
}
