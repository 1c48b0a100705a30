using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Forwarding;

/// <summary>https:// Ollama servers: a failed TLS handshake makes the server unreachable, not the proxy broken.</summary>
public sealed class HttpsServerTests
{
    [Fact]
    public async Task ServerCertificateNotTrusted_502NamingTheServerAndTheCertificateProblem()
    {
        using var certificate = TestCertificates.CreateLoopback();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = new Uri($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        var handshake = ServeOneHandshakeAsync(listener, certificate);
        await using var proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={server}"]);

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.Content.ReadAsStringAsync()).Should()
            .StartWith($$"""{"error":"gollamas: Ollama server on connection 1 is unreachable: """)
            .And.Contain("certificate");
        (await handshake.DefaultTimeout()).Should().BeFalse("the proxy must not send a request over a connection it could not verify");
    }

    /// <summary>Accepts one connection and serves a TLS handshake; true if a request byte followed it.</summary>
    private static async Task<bool> ServeOneHandshakeAsync(TcpListener listener, X509Certificate2 certificate)
    {
        using var socket = await listener.AcceptSocketAsync();
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        try
        {
            // Under TLS 1.3 the server may finish before the client has checked the certificate;
            // the client's refusal then arrives as an alert or a close on the first read.
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
            return await tls.ReadAsync(new byte[1]) > 0;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            return false;
        }
    }
}
