using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gollamas.Tests.Fakes;

/// <summary>
/// A loopback listener that never accepts, its queue filled: Linux then drops further SYNs, so a
/// connect to <see cref="BaseUri"/> hangs as it would to a host that is down, without leaving the
/// loopback.
/// </summary>
public sealed class UnacceptingListener : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];

    public UnacceptingListener()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(0);
        var endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        for (var i = 0; i < 4; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
            try
            {
                filler.Connect(endpoint);
            }
            catch (SocketException)
            {
                // In progress (or dropped): it holds its place in the queue either way.
            }

            _fillers.Add(filler);
        }

        BaseUri = new Uri($"http://127.0.0.1:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}/");
    }

    public Uri BaseUri { get; }

    public void Dispose()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}
