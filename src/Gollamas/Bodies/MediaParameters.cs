using System.Buffers;
using System.Text;

namespace Gollamas.Bodies;

/// <summary>
/// The parameters of a Content-Type or Content-Disposition value, in the plain subset of the
/// grammar Go's mime.ParseMediaType reads (RFC 2045 section 5.1): where Go would read a value
/// otherwise than a plain reading, this one refuses it.
/// </summary>
internal static class MediaParameters
{
    /// <summary>The most parameters one value may carry.</summary>
    public const int MaxCount = 16;

    /// <summary>RFC 9110 tchar, also Go's isTokenChar (mime) and validHeaderFieldByte (textproto).</summary>
    public static readonly SearchValues<byte> TokenChars = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>
    /// Reads <c>type[/subtype]</c> and its <c>; key=value</c> parameters, with only SP or HTAB
    /// around the separators: a key is a token, a value a token or a quoted string without
    /// backslashes (mime.ParseMediaType unescapes them, MSIE style). No key may come twice, in
    /// any case (Go refuses a repeated key with another value, so its Content-Disposition reads
    /// as empty). No trailing semicolon, no non-ASCII byte outside quotes (Go skips Unicode
    /// spaces there).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> text, bool allowSubtype, out Range type, Span<Parameter> parameters, out int count)
    {
        count = 0;
        var at = Token(text, 0);
        if (at == 0)
        {
            type = default;
            return false;
        }

        if (allowSubtype && at < text.Length && text[at] == (byte)'/')
        {
            var subtypeEnd = Token(text, at + 1);
            if (subtypeEnd == at + 1)
            {
                type = default;
                return false;
            }

            at = subtypeEnd;
        }

        type = ..at;
        while (true)
        {
            at = Blanks(text, at);
            if (at == text.Length)
            {
                return true;
            }

            if (text[at] != (byte)';' || count == parameters.Length)
            {
                return false;
            }

            var keyStart = Blanks(text, at + 1);
            var keyEnd = Token(text, keyStart);
            at = Blanks(text, keyEnd);
            if (keyEnd == keyStart || at == text.Length || text[at] != (byte)'=')
            {
                return false;
            }

            var valueStart = Blanks(text, at + 1);
            int valueEnd;
            if (valueStart < text.Length && text[valueStart] == (byte)'"')
            {
                var quoted = text[(valueStart + 1)..].IndexOfAny((byte)'"', (byte)'\\');
                if (quoted < 0 || text[valueStart + 1 + quoted] == (byte)'\\')
                {
                    return false;
                }

                valueStart++;
                valueEnd = valueStart + quoted;
                at = valueEnd + 1;
            }
            else
            {
                valueEnd = Token(text, valueStart);
                if (valueEnd == valueStart)
                {
                    return false;
                }

                at = valueEnd;
            }

            var key = text[keyStart..keyEnd];
            foreach (var earlier in parameters[..count])
            {
                if (Ascii.EqualsIgnoreCase(text[earlier.Key], key))
                {
                    return false;
                }
            }

            parameters[count++] = new Parameter(keyStart..keyEnd, valueStart..valueEnd);
        }
    }

    /// <summary>The end of the token starting at <paramref name="start"/> (itself if there is none).</summary>
    private static int Token(ReadOnlySpan<byte> text, int start)
    {
        var length = text[start..].IndexOfAnyExcept(TokenChars);
        return length < 0 ? text.Length : start + length;
    }

    private static int Blanks(ReadOnlySpan<byte> text, int start)
    {
        var length = text[start..].IndexOfAnyExcept(" \t"u8);
        return length < 0 ? text.Length : start + length;
    }

    /// <summary>Where a parameter's key and value (inside its quotes, if quoted) are in the text read.</summary>
    public readonly record struct Parameter(Range Key, Range Value);
}
