using System.Buffers;
using System.Text;

namespace Gollamas.Config;

/// <summary>
/// The user and password of a connection URL (<c>http://user:password@host:11434</c>), sent to
/// that server as HTTP Basic authentication. Read as Go's <c>url.Parse</c> reads them: the
/// userinfo runs to the last '@' of the authority, its characters are those Go's
/// <c>validUserinfo</c> allows, the first ':' separates the password, and percent escapes are
/// decoded to bytes (Go's <c>unescape</c> in <c>encodeUserPassword</c> mode: '+' stays '+').
/// </summary>
/// <remarks>
/// The value never prints: <see cref="ToString"/> is redacted, so neither this record nor a
/// <see cref="ConnectionConfig"/> holding it can carry the secret into a log line.
/// </remarks>
internal sealed record UrlCredentials
{
    private const string SchemeSeparator = "://";

    // Go's validUserinfo: unreserved, sub-delims, ':', '%' and '@'; nothing else, no non-ASCII.
    private static readonly SearchValues<char> s_userinfoChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:%@");

    private UrlCredentials(string authorizationValue) => AuthorizationValue = authorizationValue;

    /// <summary>The value of the Authorization field: <c>Basic base64(user:password)</c>.</summary>
    public string AuthorizationValue { get; }

    /// <summary>
    /// Splits <paramref name="url"/> into the URL without its userinfo and the credentials in it.
    /// </summary>
    /// <returns>
    /// <see langword="false"/> with <paramref name="problem"/> set when the userinfo is not one
    /// Go would accept; <see langword="true"/> otherwise, <paramref name="credentials"/> null when
    /// the URL has no userinfo (then <paramref name="withoutCredentials"/> is <paramref name="url"/>).
    /// </returns>
    public static bool TrySplit(string url, out string withoutCredentials, out UrlCredentials? credentials, out string? problem)
    {
        withoutCredentials = url;
        credentials = null;
        problem = null;
        var scheme = url.IndexOf(SchemeSeparator, StringComparison.Ordinal);
        if (scheme < 0)
        {
            return true;
        }

        var authorityStart = scheme + SchemeSeparator.Length;
        var authorityLength = url.AsSpan(authorityStart).IndexOfAny('/', '?', '#');
        var authority = authorityLength < 0 ? url.AsSpan(authorityStart) : url.AsSpan(authorityStart, authorityLength);
        var at = authority.LastIndexOf('@');
        if (at < 0)
        {
            return true;
        }

        var userinfo = authority[..at];
        if (userinfo.ContainsAnyExcept(s_userinfoChars))
        {
            problem = "invalid character in the URL's user or password (percent-encode it)";
            return false;
        }

        var colon = userinfo.IndexOf(':');
        var user = colon < 0 ? userinfo : userinfo[..colon];
        var password = colon < 0 ? [] : userinfo[(colon + 1)..];
        var plain = new byte[userinfo.Length + 1];
        if (!TryUnescape(user, plain, out var written))
        {
            problem = "invalid percent escape in the URL's user or password";
            return false;
        }

        // Go's basicAuth(username, password): "user:password", also when the password is absent.
        plain[written++] = (byte)':';
        if (!TryUnescape(password, plain.AsSpan(written), out var passwordLength))
        {
            problem = "invalid percent escape in the URL's user or password";
            return false;
        }

        written += passwordLength;
        credentials = new UrlCredentials("Basic " + Convert.ToBase64String(plain, 0, written));
        Array.Clear(plain);
        withoutCredentials = string.Concat(url.AsSpan(0, authorityStart), url.AsSpan(authorityStart + at + 1));
        return true;
    }

    /// <summary>
    /// <paramref name="text"/> with the userinfo of every URL in it replaced by <c>***</c>, so a
    /// configuration error can quote what the operator wrote without printing a password.
    /// </summary>
    public static string Redact(string text)
    {
        var scheme = text.IndexOf(SchemeSeparator, StringComparison.Ordinal);
        if (scheme < 0)
        {
            return RedactWithoutScheme(text);
        }

        var redacted = new StringBuilder(text.Length);
        var from = 0;
        while (scheme >= 0)
        {
            var authorityStart = scheme + SchemeSeparator.Length;
            var rest = text.AsSpan(authorityStart);

            // The authority ends where a path, query or fragment starts. Anything else may belong
            // to a password that failed validation, so a sentence after the URL is read as part of
            // it: the cost is redacting too much, never too little.
            var end = rest.IndexOfAny('/', '?', '#');
            var authority = end < 0 ? rest : rest[..end];
            var at = authority.LastIndexOf('@');
            redacted.Append(text.AsSpan(from, authorityStart - from));
            if (at >= 0)
            {
                redacted.Append("***");
                from = authorityStart + at;
            }
            else
            {
                from = authorityStart;
            }

            var next = text.AsSpan(authorityStart).IndexOf(SchemeSeparator, StringComparison.Ordinal);
            scheme = next < 0 ? -1 : authorityStart + next;
        }

        return redacted.Append(text.AsSpan(from)).ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => "Basic (redacted)";

    // An address written without a scheme may carry them too (user:password@host:11434, as
    // OLLAMA_HOST may): what comes before its last '@', back to the start of the word (after
    // '=', ',' or a space), is hidden.
    private static string RedactWithoutScheme(string text)
    {
        var at = text.LastIndexOf('@');
        if (at < 0)
        {
            return text;
        }

        var start = text.AsSpan(0, at).LastIndexOfAny("=, ") + 1;
        return string.Concat(text.AsSpan(0, start), "***", text.AsSpan(at));
    }

    private static bool TryUnescape(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        written = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                destination[written++] = (byte)text[i];
                continue;
            }

            if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
            {
                return false;
            }

            destination[written++] = (byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2]));
            i += 2;
        }

        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
