using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gollamas.Tests.Infrastructure;

/// <summary>Certificates made on the spot for TLS tests; no machine trusts them.</summary>
public static class TestCertificates
{
    /// <summary>A self-signed P-256 certificate for 127.0.0.1, valid from yesterday to tomorrow, with its private key.</summary>
    public static X509Certificate2 CreateLoopback()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Writes a new loopback certificate and its private key as PEM files, as --tls-cert and --tls-key read them.</summary>
    public static void WritePemPair(string certificatePath, string keyPath)
    {
        using var certificate = CreateLoopback();
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }
}
