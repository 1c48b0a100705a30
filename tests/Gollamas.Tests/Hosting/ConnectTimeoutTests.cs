using System.Net;
using System.Net.Sockets;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Hosting;

/// <summary>--connect-timeout: a server that never completes the TCP handshake.</summary>
public sealed class ConnectTimeoutTests : TwoServersTest
{
    [Fact]
    public async Task ServerNeverAcceptingTheConnection_504AfterTheConnectTimeout()
    {
        // A listener that never accepts, its queue filled: Linux then drops further SYNs, so a
        // connect hangs as it would to a host that is down, without leaving the loopback.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
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

                fillers.Add(filler);
            }

            var server = new Uri($"http://127.0.0.1:{endpoint.Port}/");
            Proxy = await ProxyUnderTest.StartAsync(
                proxies: [$"llama3.2={server}"],
                adjust: options => options with { Limits = options.Limits with { ConnectTimeout = TimeSpan.FromMilliseconds(500) } });

            using var response = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

            response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
            (await response.Content.ReadAsStringAsync()).Should().Be($$"""{"error":"gollamas: Ollama server {{server}} timed out: no connection within 0.5 s"}""");
        }
        finally
        {
            foreach (var filler in fillers)
            {
                filler.Dispose();
            }
        }
    }
}
