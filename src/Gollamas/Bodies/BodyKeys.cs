using System.Text;
using System.Text.Json;

namespace Gollamas.Bodies;

/// <summary>
/// Matches the keys of a request body the way Ollama's Go decoder will: struct fields through
/// <c>foldName</c>, map keys exactly, escapes unescaped first.
/// </summary>
internal static class BodyKeys
{
    /// <summary>
    /// Longest escaped key that can still match: a name we look for is at most
    /// <see cref="RequestRule.MaxNameLength"/> runes, 6 bytes each as \uXXXX escapes. Longer keys
    /// are <see cref="BodyKey.Other"/> without unescaping.
    /// </summary>
    public const int MaxEscapedKeyBytes = 6 * RequestRule.MaxNameLength;

    /// <summary>
    /// Classifies the top-level property name the reader is on; for <see cref="BodyKey.Watched"/>,
    /// <paramref name="field"/> is its index in <paramref name="watched"/>.
    /// </summary>
    public static BodyKey Classify(ref Utf8JsonReader reader, bool acceptName, WatchedFields watched, out int field)
    {
        if (!reader.ValueIsEscaped)
        {
            return Match(reader.ValueSpan, acceptName, watched, out field);
        }

        Span<byte> unescaped = stackalloc byte[MaxEscapedKeyBytes];
        if (TryUnescape(ref reader, unescaped, out var length))
        {
            return Match(unescaped[..length], acceptName, watched, out field);
        }

        field = -1;
        return BodyKey.Other;
    }

    /// <summary>
    /// The index in <paramref name="watched"/> of the <c>options</c> entry the property name the
    /// reader is on names exactly (a key of Go's <c>map[string]any</c>); -1 for none.
    /// </summary>
    public static int MatchOption(ref Utf8JsonReader reader, WatchedFields watched)
    {
        if (!reader.ValueIsEscaped)
        {
            return watched.MatchOption(reader.ValueSpan);
        }

        Span<byte> unescaped = stackalloc byte[MaxEscapedKeyBytes];
        return TryUnescape(ref reader, unescaped, out var length) ? watched.MatchOption(unescaped[..length]) : -1;
    }

    private static BodyKey Match(ReadOnlySpan<byte> key, bool acceptName, WatchedFields watched, out int field)
    {
        field = -1;
        // "model" and "name" are ASCII with no letter that Unicode folds from elsewhere (only k and
        // s have such forms), so an ASCII case-insensitive compare is exactly Go's key match.
        if (Ascii.EqualsIgnoreCase(key, "model"u8))
        {
            return BodyKey.Model;
        }

        if (acceptName && Ascii.EqualsIgnoreCase(key, "name"u8))
        {
            return BodyKey.Name;
        }

        if (GoFoldEquals(key, "options"u8))
        {
            return BodyKey.Options;
        }

        field = watched.MatchTopLevel(key);
        return field < 0 ? BodyKey.Other : BodyKey.Watched;
    }

    private static bool TryUnescape(ref Utf8JsonReader reader, scoped Span<byte> destination, out int length)
    {
        length = 0;
        if (reader.ValueSpan.Length > destination.Length)
        {
            return false;
        }

        try
        {
            length = reader.CopyString(destination);
            return true;
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape or invalid UTF-8: Go reads U+FFFD there, which no name we
            // look for contains.
            return false;
        }
    }

    /// <summary>
    /// Whether Go's <c>foldName(key) == foldName(name)</c> for <paramref name="name"/> in lower-case
    /// ASCII: each ASCII byte matches ignoring case, U+212A matches k, U+017F matches s, and any
    /// other non-ASCII rune (or invalid UTF-8, read as U+FFFD) matches nothing. (encoding/json
    /// fold.go folds a rune to the smallest of its case orbit; only these two reach ASCII letters.)
    /// </summary>
    public static bool GoFoldEquals(ReadOnlySpan<byte> key, ReadOnlySpan<byte> name)
    {
        var i = 0;
        foreach (var expected in name)
        {
            if (i == key.Length)
            {
                return false;
            }

            var actual = key[i];
            if (actual < 0x80)
            {
                var folded = char.IsAsciiLetterUpper((char)actual) ? (byte)(actual | 0x20) : actual;
                if (folded != expected)
                {
                    return false;
                }

                i++;
            }
            else if (expected == 'k' && key[i..].StartsWith("\u212A"u8))
            {
                i += 3;
            }
            else if (expected == 's' && key[i..].StartsWith("\u017F"u8))
            {
                i += 2;
            }
            else
            {
                return false;
            }
        }

        return i == key.Length;
    }
}
