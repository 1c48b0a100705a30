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
    /// Longest escaped key that can still match: a name we look for is at most 10 runes, 60
    /// bytes as \uXXXX escapes. Longer keys are <see cref="BodyKey.Other"/> without unescaping.
    /// </summary>
    public const int MaxEscapedKeyBytes = 64;

    /// <summary>Classifies the top-level property name the reader is on.</summary>
    public static BodyKey Classify(ref Utf8JsonReader reader, bool acceptName)
    {
        if (!reader.ValueIsEscaped)
        {
            return Match(reader.ValueSpan, acceptName);
        }

        Span<byte> unescaped = stackalloc byte[MaxEscapedKeyBytes];
        return TryUnescape(ref reader, unescaped, out var length) ? Match(unescaped[..length], acceptName) : BodyKey.Other;
    }

    /// <summary>Whether the property name the reader is on is exactly <c>num_ctx</c> (a key of Go's <c>map[string]any</c>).</summary>
    public static bool IsNumCtx(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.SequenceEqual("num_ctx"u8);
        }

        Span<byte> unescaped = stackalloc byte[MaxEscapedKeyBytes];
        return TryUnescape(ref reader, unescaped, out var length) && unescaped[..length].SequenceEqual("num_ctx"u8);
    }

    private static BodyKey Match(ReadOnlySpan<byte> key, bool acceptName)
    {
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

        if (GoFoldEquals(key, "keep_alive"u8))
        {
            return BodyKey.KeepAlive;
        }

        return GoFoldEquals(key, "options"u8) ? BodyKey.Options : BodyKey.Other;
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
    private static bool GoFoldEquals(ReadOnlySpan<byte> key, ReadOnlySpan<byte> name)
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
