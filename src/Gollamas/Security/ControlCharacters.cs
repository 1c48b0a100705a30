using System.Buffers;
using Microsoft.Extensions.Primitives;

namespace Gollamas.Security;

/// <summary>
/// Control characters where a request may not carry them. Kestrel itself refuses NUL, CR and LF
/// in a header value or the request target, but lets the other C0 controls and DEL through, which
/// would then be forwarded (or logged) as they came. Go's net/http, in front of Ollama, answers
/// them with 400: <c>httpguts.ValidHeaderFieldValue</c> for header values (HTAB alone allowed,
/// bytes from 0x80 allowed as obs-text) and <c>url.ParseRequestURI</c> for the target.
/// </summary>
internal static class ControlCharacters
{
    // What a message must not echo: C0 and C1 controls, DEL, and the line separators and
    // direction marks that make a terminal or a log viewer show something else than is there.
    private static readonly SearchValues<char> s_unprintable = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F"
        + "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F"
        + "\u200E\u200F\u2028\u2029\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary>
    /// <paramref name="text"/> (a client's value a message names) with every control character,
    /// line separator and direction mark replaced by U+FFFD, so an error never echoes them.
    /// </summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.AsSpan().ContainsAny(s_unprintable))
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            source.AsSpan().CopyTo(span);
            var at = span.IndexOfAny(s_unprintable);
            while (at >= 0)
            {
                span[at] = '\uFFFD';
                var next = span[(at + 1)..].IndexOfAny(s_unprintable);
                at = next < 0 ? -1 : at + 1 + next;
            }
        });
    }

    /// <summary>Whether a request target (its raw form) holds a control character (none at all is allowed there).</summary>
    public static bool InTarget(string? rawTarget) => rawTarget is not null && HasControl(rawTarget, tabAllowed: false);

    /// <summary>Whether one of a header field's values holds a control character other than HTAB.</summary>
    public static bool InHeaderValues(StringValues values)
    {
        foreach (var value in values)
        {
            if (value is not null && HasControl(value, tabAllowed: true))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="text"/> holds a C0 control or DEL (HTAB allowed when
    /// <paramref name="tabAllowed"/>; the target has no white space at all). One vectorised
    /// search for anything but printable ASCII, the usual text having none: cheaper on a
    /// request's short values than a search for the set itself. What it stops at (HTAB, bytes from
    /// 0x80 as obs-text or UTF-8) is looked at, and the search goes on after it.
    /// </summary>
    private static bool HasControl(ReadOnlySpan<char> text, bool tabAllowed)
    {
        var at = text.IndexOfAnyExceptInRange(' ', '~');
        while (at >= 0)
        {
            var c = text[at];
            if (c == '\u007F' || (c < ' ' && !(tabAllowed && c == '\t')))
            {
                return true;
            }

            text = text[(at + 1)..];
            at = text.IndexOfAnyExceptInRange(' ', '~');
        }

        return false;
    }
}
