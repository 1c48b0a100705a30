using System.Net.Sockets;
using System.Text;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Hosting;

/// <summary>The limits that protect the proxy from its clients: header timeout, connection count.</summary>
public sealed class ClientLimitTests : TwoServersTest
{
    [Fact]
    public async Task HeadersNeverFinished_ConnectionClosedAfterTheHeaderTimeout_OthersServed()
    {
        var proxy = await StartAsync(options => options with { Limits = options.Limits with { RequestHeadersTimeout = TimeSpan.FromSeconds(1) } });
        using var slow = new TcpClient();
        await slow.ConnectAsync(proxy.BaseUri.Host, proxy.BaseUri.Port);
        var stream = slow.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /api/chat HTTP/1.1\r\nHost: localhost\r\nX-Slow: "));

        using (var other = await proxy.Client.GetAsync("/healthz"))
        {
            other.IsSuccessStatusCode.Should().BeTrue("a client that never finishes its headers holds up nobody");
        }

        // Kestrel answers 408 (or just closes) once the header timeout has passed; either way the
        // connection ends, which the read observes.
        var buffer = new byte[1024];
        var total = new StringBuilder();
        int read;
        while ((read = await stream.ReadAsync(buffer).AsTask().DefaultTimeout(TimeSpan.FromSeconds(15))) > 0)
        {
            total.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        total.ToString().Should().Match(static text => text.Length == 0 || text.StartsWith("HTTP/1.1 408", StringComparison.Ordinal));
        A.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task MaxConnectionsReached_FurtherConnectionsClosed_TheFirstStillServed()
    {
        var proxy = await StartAsync(options => options with { Limits = options.Limits with { MaxConnections = 1 } });
        using var first = new TcpClient();
        await first.ConnectAsync(proxy.BaseUri.Host, proxy.BaseUri.Port);
        var firstStream = first.GetStream();
        var firstAnswer = await RequestAsync(firstStream);
        firstAnswer.Should().StartWith("HTTP/1.1 200");

        using var second = new TcpClient();
        await second.ConnectAsync(proxy.BaseUri.Host, proxy.BaseUri.Port);
        var secondStream = second.GetStream();
        await secondStream.WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        var buffer = new byte[256];
        var secondRead = await ReadOrResetAsync(secondStream, buffer);

        secondRead.Should().Be(0, "the connection over the limit is closed without an answer");
        (await RequestAsync(firstStream)).Should().StartWith("HTTP/1.1 200", "the first keeps its connection");
    }

    private async Task<ProxyUnderTest> StartAsync(Func<Gollamas.Config.GollamasOptions, Gollamas.Config.GollamasOptions> adjust)
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"], adjust: adjust);
        return Proxy;
    }

    private static async Task<string> RequestAsync(NetworkStream stream)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        var buffer = new byte[1024];
        var text = new StringBuilder();
        while (!text.ToString().EndsWith("{\"status\":\"ok\"}", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer).AsTask().DefaultTimeout();
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    private static async Task<int> ReadOrResetAsync(NetworkStream stream, byte[] buffer)
    {
        try
        {
            return await stream.ReadAsync(buffer).AsTask().DefaultTimeout();
        }
        catch (IOException)
        {
            return 0; // reset instead of a close: the connection was refused all the same
        }
    }
}
