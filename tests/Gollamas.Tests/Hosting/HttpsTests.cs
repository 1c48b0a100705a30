using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Hosting;

/// <summary>--tls-cert and --tls-key: the proxy listens with HTTPS from PEM files.</summary>
public sealed class HttpsTests : TwoServersTest, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gollamas-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task PemCertificateAndKey_ProxyAnswersOverHttpsWithThatCertificate()
    {
        var (certPath, keyPath, thumbprint) = WriteSelfSigned();
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            adjust: options => options with { Limits = options.Limits with { TlsCertificatePath = certPath, TlsKeyPath = keyPath } });
        string? presented = null;
        using var handler = new SocketsHttpHandler();
        // Pinned to the test's own certificate: accepted only if the proxy presents exactly it.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            presented = certificate?.GetCertHashString();
            return string.Equals(presented, thumbprint, StringComparison.Ordinal);
        };
        using var client = new HttpClient(handler) { BaseAddress = Proxy.BaseUri, Timeout = TestTimeouts.Default };

        using var response = await client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}"""));

        Proxy.BaseUri.Scheme.Should().Be("https");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        presented.Should().Be(thumbprint);
        A.Requests.Should().ContainSingle(r => r.Path == "/api/chat");
    }

    private (string Cert, string Key, string Thumbprint) WriteSelfSigned()
    {
        using var certificate = TestCertificates.CreateLoopback();
        using var key = certificate.GetECDsaPrivateKey()!;
        var certPath = Path.Combine(_directory, "cert.pem");
        var keyPath = Path.Combine(_directory, "key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath, certificate.GetCertHashString());
    }
}
