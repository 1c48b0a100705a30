using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gollamas.Bench.Load;

/// <summary>
/// One keep-alive HTTP/1.1 connection that sends a prepared request and reads the response at
/// the socket, timing the first body byte and counting NDJSON lines. A raw socket, not
/// HttpClient, so the figure holds no client-side buffering and a thousand of them cost the
/// bench one small buffer each.
/// </summary>
internal sealed class RawHttpStream : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[4096];

    private RawHttpStream(Socket socket) => _socket = socket;

    public static async Task<RawHttpStream> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            return new RawHttpStream(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Builds the bytes of a JSON POST.</summary>
    public static byte[] JsonPost(string path, string body)
    {
        var bytes = System.Text.Encoding.UTF8.GetByteCount(body);
        return System.Text.Encoding.UTF8.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {bytes}\r\n\r\n{body}");
    }

    /// <summary>Sends <paramref name="request"/> and reads its whole response.</summary>
    public async Task<StreamResult> ExchangeAsync(byte[] request, CancellationToken cancellationToken)
    {
        try
        {
            await _socket.SendAsync(request, cancellationToken);
            var sent = Stopwatch.GetTimestamp();
            var parser = new ResponseParser();
            var firstBody = TimeSpan.Zero;
            while (!parser.Done)
            {
                var read = await _socket.ReceiveAsync(_buffer, cancellationToken);
                if (read == 0)
                {
                    return new StreamResult(parser.Status, firstBody, parser.Lines, false, "connection closed before the response ended");
                }

                var hadBody = parser.BodyBytes > 0;
                if (!parser.Feed(_buffer.AsSpan(0, read)))
                {
                    return new StreamResult(parser.Status, firstBody, parser.Lines, false, "malformed response");
                }

                if (!hadBody && parser.BodyBytes > 0)
                {
                    firstBody = Stopwatch.GetElapsedTime(sent);
                }
            }

            return new StreamResult(parser.Status, firstBody, parser.Lines, true, parser.Status == 200 ? null : $"status {parser.Status}");
        }
        catch (SocketException ex)
        {
            return new StreamResult(0, TimeSpan.Zero, 0, false, ex.SocketErrorCode.ToString());
        }
    }

    public void Dispose() => _socket.Dispose();
}
