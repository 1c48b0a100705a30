using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Hosting;

/// <summary>--connect-timeout: a server that never completes the TCP handshake.</summary>
public sealed class ConnectTimeoutTests : TwoServersTest
{
    [Fact]
    public async Task ServerNeverAcceptingTheConnection_504AfterTheConnectTimeout()
    {
        using var listener = new UnacceptingListener();
        var server = listener.BaseUri;
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={server}"],
            adjust: options => options with { Limits = options.Limits with { ConnectTimeout = TimeSpan.FromMilliseconds(500) } });

        using var response = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        (await response.Content.ReadAsStringAsync()).Should().Be($$"""{"error":"gollamas: Ollama server on connection 1 timed out: no connection within 500ms"}""");
    }
}
