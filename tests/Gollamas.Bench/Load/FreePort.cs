using System.Net;
using System.Net.Sockets;

namespace Gollamas.Bench.Load;

/// <summary>Loopback ports for child processes, which must be told a port before they bind.</summary>
internal static class FreePort
{
    /// <summary>
    /// Binds port 0, reads the port the kernel chose and closes: a race in principle, but the
    /// kernel hands out ephemeral ports in sequence, so a port is not reused within seconds.
    /// </summary>
    public static int Next()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
