using System.Net.Sockets;
using System.Text;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Robustness;

/// <summary>
/// One TCP connection to the proxy for requests no HTTP client will send: byte-exact malformed
/// framing, bodies cut short, headers that never end.
/// </summary>
internal sealed class RawHttpConnection : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawHttpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawHttpConnection> ConnectAsync(Uri baseUri)
    {
        var client = new TcpClient();
        await client.ConnectAsync(baseUri.Host, baseUri.Port).DefaultTimeout();
        return new RawHttpConnection(client);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes).AsTask().DefaultTimeout();

    /// <summary>Half-closes: the proxy sees the end of the request bytes.</summary>
    public void ShutdownSend() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>
    /// Reads one response: its status code and body, or null when the proxy closed (or reset) the
    /// connection without answering.
    /// </summary>
    public async Task<(int Status, string Body)?> ReadResponseAsync()
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int headEnd;
        while ((headEnd = IndexOf(received, "\r\n\r\n"u8)) < 0)
        {
            var read = await ReadSomeAsync(buffer);
            if (read == 0)
            {
                return null;
            }

            received.Write(buffer, 0, read);
        }

        var head = Encoding.Latin1.GetString(received.GetBuffer(), 0, headEnd);
        var status = int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var contentLength = 0;
        var chunked = false;
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                contentLength = int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }

            chunked |= line.Equals("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase);
        }

        if (chunked)
        {
            return (status, await ReadChunkedAsync(received, headEnd + 4, buffer));
        }

        while (received.Length < headEnd + 4 + contentLength)
        {
            var read = await ReadSomeAsync(buffer);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        var bodyLength = (int)Math.Min(contentLength, received.Length - headEnd - 4);
        return (status, Encoding.UTF8.GetString(received.GetBuffer(), headEnd + 4, bodyLength));
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }

    private async Task<string> ReadChunkedAsync(MemoryStream received, int bodyStart, byte[] buffer)
    {
        var body = new MemoryStream();
        var at = bodyStart;
        while (true)
        {
            var sizeEnd = received.GetBuffer().AsSpan(at, (int)received.Length - at).IndexOf("\r\n"u8);
            if (sizeEnd >= 0)
            {
                var size = Convert.ToInt32(Encoding.Latin1.GetString(received.GetBuffer(), at, sizeEnd), 16);
                if (received.Length >= at + sizeEnd + 2 + size + 2)
                {
                    if (size == 0)
                    {
                        return Encoding.UTF8.GetString(body.ToArray());
                    }

                    body.Write(received.GetBuffer(), at + sizeEnd + 2, size);
                    at += sizeEnd + 2 + size + 2;
                    continue;
                }
            }

            var read = await ReadSomeAsync(buffer);
            if (read == 0)
            {
                return Encoding.UTF8.GetString(body.ToArray()); // cut short: what arrived
            }

            received.Write(buffer, 0, read);
        }
    }

    private async Task<int> ReadSomeAsync(byte[] buffer)
    {
        try
        {
            return await _stream.ReadAsync(buffer).AsTask().DefaultTimeout();
        }
        catch (IOException)
        {
            return 0; // reset by the proxy: as good as closed
        }
    }

    private static int IndexOf(MemoryStream stream, ReadOnlySpan<byte> value) =>
        stream.GetBuffer().AsSpan(0, (int)stream.Length).IndexOf(value);
}
