using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gollamas.Tests.Fakes;

/// <summary>
/// The socket plumbing shared by the socket-level test servers: listens on 127.0.0.1 port 0 and hands each accepted
/// connection, numbered from 1, to the owner's serve function with a token cancelled when the listener stops. The
/// connection is closed when that function returns. A serve call that ends in an exception other than those of
/// <see cref="IsPeerGoneOrStopped"/> failed; <see cref="DisposeAsync"/> rethrows such failures.
/// </summary>
internal sealed class LoopbackListener : IAsyncDisposable
{
    private readonly string _owner;
    private readonly Func<NetworkStream, int, CancellationToken, Task> _serve;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<Task> _connections = [];
    private readonly List<Socket> _sockets = [];
    private readonly List<Exception> _failures = [];
    private readonly Task _acceptLoop;
    private int _connectionCount;

    /// <param name="owner">The server's type name, for the failure message.</param>
    /// <param name="serve">Runs once per connection: the stream, the connection's number (from 1), the stop token.</param>
    public LoopbackListener(string owner, Func<NetworkStream, int, CancellationToken, Task> serve)
    {
        _owner = owner;
        _serve = serve;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        BaseUri = UriFor(_listener);
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The bound address with a trailing slash, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>The <c>http://127.0.0.1:PORT/</c> address of a socket bound on loopback.</summary>
    public static Uri UriFor(Socket bound)
    {
        ArgumentNullException.ThrowIfNull(bound);
        var port = ((IPEndPoint)bound.LocalEndPoint!).Port;
        return new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    /// <summary>
    /// Whether <paramref name="exception"/> is what a connection ends with when the peer went away or the listener
    /// stopped: expected from a fault-injection server, not a failure.
    /// </summary>
    public static bool IsPeerGoneOrStopped(Exception exception) =>
        exception is OperationCanceledException or IOException or SocketException or ObjectDisposedException;

    /// <summary>Stops accepting, closes every connection, waits for every serve call and rethrows their failures.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;

        Task[] connections;
        lock (_lock)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            connections = [.. _connections];
        }

        await Task.WhenAll(connections);
        _stopping.Dispose();

        lock (_lock)
        {
            if (_failures.Count > 0)
            {
                throw new AggregateException($"A {_owner} responder failed.", _failures);
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            // Each write leaves at once: without it, Nagle holds a small write until the previous
            // one is acknowledged (up to a delayed ACK later), and a test that writes, then signals,
            // would signal before its bytes reached the proxy.
            socket.NoDelay = true;
            var number = ++_connectionCount;
            lock (_lock)
            {
                _sockets.Add(socket);
            }

            // Started outside the lock: the serve function may run synchronously up to its first await.
            var connection = ServeAsync(socket, number);
            lock (_lock)
            {
                _connections.Add(connection);
            }
        }
    }

    private async Task ServeAsync(Socket socket, int number)
    {
        var cancellationToken = _stopping.Token;
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            await _serve(stream, number, cancellationToken);
        }
        catch (Exception ex) when (IsPeerGoneOrStopped(ex))
        {
            // Expected from a fault-injection server.
        }
        catch (Exception ex)
        {
            lock (_lock)
            {
                _failures.Add(ex);
            }
        }
        finally
        {
            socket.Dispose();
        }
    }
}
