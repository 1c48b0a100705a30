using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Gollamas.Connections;

/// <summary>
/// The check of one HTTPS server's certificate during one handshake: the runtime's verdict,
/// unchanged, and what it found wrong, kept so that a refused handshake is told in words of
/// ours. The runtime's own message is a resource key in the published binary
/// (<c>net_ssl_io_cert_chain_validation, UntrustedRoot</c>).
/// </summary>
/// <param name="privateCa">Whether the certificate must chain to a --connection-ca bundle rather than the system's roots.</param>
internal sealed class CertificateCheck(bool privateCa)
{
    private SslPolicyErrors _errors;
    private X509ChainStatusFlags _chain;
    private DateTime _notBefore;
    private DateTime _notAfter;

    /// <summary>Whether the check ran and found something wrong.</summary>
    public bool Failed => _errors != SslPolicyErrors.None;

    /// <summary>
    /// The <see cref="RemoteCertificateValidationCallback"/>: the same verdict as without one
    /// (the chain was built with the connection's chain policy), with its reasons recorded.
    /// </summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        _errors = errors;
        if (chain is not null)
        {
            foreach (var status in chain.ChainStatus)
            {
                _chain |= status.Status;
            }
        }

        if (certificate is X509Certificate2 leaf)
        {
            _notBefore = leaf.NotBefore.ToUniversalTime();
            _notAfter = leaf.NotAfter.ToUniversalTime();
        }

        return errors == SslPolicyErrors.None;
    }

    /// <summary>
    /// What was wrong with the certificate, as a sentence a client may read (no host name or
    /// address); <paramref name="now"/> tells expired from not yet valid.
    /// </summary>
    public string Describe(DateTime now)
    {
        if ((_errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return "the server sent no TLS certificate";
        }

        var problems = new List<string>(2);
        if ((_errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            problems.Add(DescribeChain(now));
        }

        if ((_errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            // Not the host itself: this sentence reaches clients, and a server's address is the
            // operator's to know (the log line names the connection with its URL).
            problems.Add("the server's TLS certificate is not for the host name in the connection's URL");
        }

        return problems.Count == 0 ? "the server's TLS certificate was refused" : string.Join("; ", problems);
    }

    private string DescribeChain(DateTime now)
    {
        if ((_chain & X509ChainStatusFlags.NotTimeValid) != 0 && _notAfter != default)
        {
            return now > _notAfter
                ? $"the server's TLS certificate expired on {Format(_notAfter)}"
                : $"the server's TLS certificate is not valid before {Format(_notBefore)}";
        }

        if ((_chain & X509ChainStatusFlags.Revoked) != 0)
        {
            return "the server's TLS certificate has been revoked";
        }

        if ((_chain & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
        {
            return privateCa
                ? "the server's TLS certificate does not chain to the CA bundle given with --connection-ca"
                : "the server's TLS certificate is not trusted: give its CA with --connection-ca ID=PATH";
        }

        if ((_chain & (X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation)) != 0)
        {
            return "the revocation status of the server's TLS certificate could not be checked";
        }

        return "the server's TLS certificate chain is not valid";
    }

    private static string Format(DateTime time) => time.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
