using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gollamas.Config;

/// <summary>
/// A header field the proxy sends to one connection with every request, its own and its
/// clients' (an <c>Authorization</c> for a protected Ollama or ollama.com). The value was read
/// from a file or an environment variable: it never prints (<see cref="ToString"/> is redacted).
/// </summary>
/// <param name="Name">The field name as configured.</param>
/// <param name="Value">The value; a secret.</param>
/// <param name="From">Where the value was read: <c>env:OLLAMA_KEY</c>, <c>file:/run/secrets/key</c>.</param>
internal sealed record ConnectionHeader(string Name, string Value, string From)
{
    public override string ToString() => $"{Name}: *** (from {From})";
}

/// <summary>
/// The certificate authorities a connection's HTTPS server certificate must chain to, instead of
/// the machine's: a private CA's bundle.
/// </summary>
/// <param name="Path">The PEM file they were read from.</param>
/// <param name="Certificates">The certificates in it.</param>
internal sealed record ConnectionTrust(string Path, X509Certificate2Collection Certificates)
{
    /// <summary>What tells two bundles apart: their certificates' SHA-256 thumbprints.</summary>
    public string Fingerprint { get; } = string.Join(',', Certificates.Select(static c => c.GetCertHashString(HashAlgorithmName.SHA256)));

    public override string ToString() => $"CA bundle {Path} ({Certificates.Count} certificates)";
}
