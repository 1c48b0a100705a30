using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gollamas.Config;

/// <summary>
/// An Ollama server's address as operators write it: an http(s) URL at the server's root
/// (<c>http://10.0.0.5:11434</c>, with <c>user:password@</c> when the server asks for them), or
/// one of the forms of <c>OLLAMA_HOST</c> without a scheme (<c>10.0.0.5:11434</c>,
/// <c>gpu1.lan</c>, <c>[::1]:11434</c>, <c>:11434</c>), read as ollama <c>envconfig.Host</c>
/// reads them: <c>http://</c>, port 11434 when none is given.
/// </summary>
/// <remarks>
/// <para>
/// Without a scheme, a single word without a dot or a port (<c>gpu1</c>) is no address, where
/// Ollama would take it for a host name: a connection id may stand in the same place, and a
/// mistyped id is likelier than a host of that name (<c>localhost</c> excepted). One grammar
/// for every flag that names a server, so an address that works in one works in all.
/// </para>
/// <para>
/// A URL with a path, query or fragment is refused rather than forwarded under it: Ollama's API is
/// at its server's root, and such a URL is nearly always a client's base URL pasted in
/// (<c>/v1</c> of the OpenAI compatibility, <c>/api</c>).
/// </para>
/// </remarks>
internal static class ServerUrl
{
    /// <summary>Ollama's port, taken when an address without a scheme gives none (envconfig.Host).</summary>
    public const int DefaultPort = 11434;

    private const string SchemeSeparator = "://";

    // envconfig.Host reads this one name as Ollama's cloud, not as a server on port 11434.
    private const string OllamaCloud = "ollama.com";

    /// <summary>Whether <paramref name="text"/> is written with a scheme (<c>scheme://</c>), so it can only be a URL.</summary>
    public static bool HasScheme(string text) => text.Contains(SchemeSeparator, StringComparison.Ordinal);

    /// <summary>
    /// Reads <paramref name="text"/> as a server's address.
    /// </summary>
    /// <param name="text">The address as written (already trimmed).</param>
    /// <param name="baseUri">The server's root, ending in '/', without a user or password.</param>
    /// <param name="credentials">The user and password of the URL, if it has them.</param>
    /// <param name="readAs">For an address written without a scheme, the URL it was read as (for a note); else null.</param>
    /// <param name="problem">
    /// Why an address cannot be used (a path, bad credentials); null when <paramref name="text"/>
    /// is not written as an address at all, which the caller words (an unknown id, not a URL).
    /// </param>
    public static bool TryRead(string text, out Uri baseUri, out UrlCredentials? credentials, out string? readAs, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        readAs = null;
        return HasScheme(text)
            ? TryParseUrl(text, out baseUri, out credentials, out problem)
            : TryReadHost(text, out baseUri, out credentials, out readAs, out problem);
    }

    /// <summary>
    /// Whether <paramref name="text"/> could name a host if it were written as a URL: a single DNS
    /// label, for the hint that follows "unknown connection id".
    /// </summary>
    public static bool CouldBeHost(string text) => text.Length > 0 && Uri.CheckHostName(text) == UriHostNameType.Dns;

    // An absolute http(s) URL with a host and nothing after its authority but one '/'. A user
    // and password (a server behind basic authentication) are taken out into their own value,
    // so that the URI every other part of the proxy sees, logs and reports has none.
    private static bool TryParseUrl(string text, out Uri baseUri, out UrlCredentials? credentials, out string? problem)
    {
        baseUri = null!;
        if (!UrlCredentials.TrySplit(text, out var withoutCredentials, out credentials, out problem))
        {
            return false;
        }

        var authorityEnd = AuthorityEnd(text, text.IndexOf(SchemeSeparator, StringComparison.Ordinal) + SchemeSeparator.Length);
        if (!Uri.TryCreate(withoutCredentials, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Host.Length == 0
            || uri.UserInfo.Length != 0)
        {
            credentials = null;
            return false;
        }

        if (text.AsSpan(authorityEnd) is not ("" or "/"))
        {
            credentials = null;
            problem = AtTheRoot(text[..authorityEnd], text);
            return false;
        }

        baseUri = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/");
        return true;
    }

    // envconfig.Host's forms: HOST, HOST:PORT, [IPV6], [IPV6]:PORT, a bare IPv6 address, :PORT
    // (this machine), each perhaps followed by a path, which is refused as a URL's is.
    private static bool TryReadHost(string text, out Uri baseUri, out UrlCredentials? credentials, out string? readAs, out string? problem)
    {
        baseUri = null!;
        credentials = null;
        readAs = null;
        problem = null;
        if (string.Equals(text, OllamaCloud, StringComparison.OrdinalIgnoreCase))
        {
            readAs = "https://" + OllamaCloud;
            baseUri = new Uri(readAs + "/");
            return true;
        }

        // A user and password before the host, as Ollama reads OLLAMA_HOST (url.Parse of
        // "http://" and it): read as that URL's, and never shown in the note.
        var authorityEnd = AuthorityEnd(text, 0);
        var at = text.AsSpan(0, authorityEnd).LastIndexOf('@');
        if (at >= 0)
        {
            if (!TryReadHost(text[(at + 1)..], out baseUri, out _, out readAs, out problem))
            {
                return false;
            }

            if (!UrlCredentials.TrySplit("http://" + text, out _, out credentials, out var credentialsProblem))
            {
                problem = credentialsProblem;
                return false;
            }

            return true;
        }

        if (!TrySplitHostPort(text.AsSpan(0, authorityEnd), out var host, out var port, out var portGiven))
        {
            return false;
        }

        // Four dotted numbers only: IPAddress also reads "1234" and "10.5" (inet_aton's short forms).
        var isAddress = IPAddress.TryParse(host, out var address)
            && (address.AddressFamily == AddressFamily.InterNetworkV6 || host.Count('.') == 3);
        var isName = !isAddress && Uri.CheckHostName(host) == UriHostNameType.Dns;
        if (!isAddress && !isName)
        {
            return false;
        }

        if (isName && !portGiven && !host.Contains('.', StringComparison.Ordinal)
            && !string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var authority = isAddress && address!.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]" : host;
        var url = string.Concat("http://", authority, ":", port.ToString(CultureInfo.InvariantCulture));
        if (authorityEnd < text.Length && text.AsSpan(authorityEnd) is not "/")
        {
            problem = AtTheRoot(url, text);
            return false;
        }

        if (!Uri.TryCreate(url + "/", UriKind.Absolute, out var uri))
        {
            return false;
        }

        baseUri = uri;
        readAs = uri.GetLeftPart(UriPartial.Authority);
        return true;
    }

    private static bool TrySplitHostPort(ReadOnlySpan<char> authority, out string host, out int port, out bool portGiven)
    {
        host = "";
        port = DefaultPort;
        portGiven = false;
        ReadOnlySpan<char> portText = default;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            if (close < 0 || !IPAddress.TryParse(authority[1..close], out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            host = authority[1..close].ToString();
            var rest = authority[(close + 1)..];
            if (!rest.IsEmpty)
            {
                if (rest[0] != ':')
                {
                    return false;
                }

                portText = rest[1..];
                portGiven = true;
            }
        }
        else if (authority.Count(':') >= 2)
        {
            // A bare IPv6 address (envconfig.Host reads "::1" as [::1]:11434): never with a port.
            if (!IPAddress.TryParse(authority, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            host = authority.ToString();
        }
        else
        {
            var colon = authority.IndexOf(':');
            if (colon >= 0)
            {
                portText = authority[(colon + 1)..];
                portGiven = true;
                authority = authority[..colon];
            }

            // ":11434" is this machine, as for Ollama's own client (Go dials an empty host locally).
            host = authority.IsEmpty && portGiven ? "127.0.0.1" : authority.ToString();
        }

        return host.Length > 0
            && (!portGiven || (ValueParsers.TryParseWholeNumber(portText, minimum: 1, out port) && port <= IPEndPoint.MaxPort));
    }

    // Where the authority of text, starting at start, ends: at its path, query or fragment.
    private static int AuthorityEnd(string text, int start)
    {
        var end = text.AsSpan(start).IndexOfAny('/', '?', '#');
        return end < 0 ? text.Length : start + end;
    }

    // The operator's own URL and its root, with any password redacted.
    private static string AtTheRoot(string root, string given) =>
        $"Ollama's API is at the server's root: use {UrlCredentials.Redact(root)}, not {UrlCredentials.Redact(given)}";
}
