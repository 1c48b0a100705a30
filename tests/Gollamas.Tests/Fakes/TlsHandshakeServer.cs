using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gollamas.Tests.Fakes;

/// <summary>Serves TLS handshakes with one certificate on loopback until disposed; nothing more.</summary>
public sealed class TlsHandshakeServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private TlsHandshakeServer(X509Certificate2 certificate)
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseUri = new Uri($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _loop = AcceptAsync(certificate);
    }

    public Uri BaseUri { get; }

    public static TlsHandshakeServer Start(X509Certificate2 certificate) => new(certificate);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync(X509Certificate2 certificate)
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            _ = HandshakeAsync(socket, certificate);
        }
    }

    private static async Task HandshakeAsync(Socket socket, X509Certificate2 certificate)
    {
        using (socket)
        {
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
                _ = await tls.ReadAsync(new byte[1]);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
                // The client refused the certificate.
            }
        }
    }
}
