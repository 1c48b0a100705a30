using System.Text;
using System.Text.Json;

namespace Gollamas.Bodies;

/// <summary>
/// Finds the model a request body names, exactly as Ollama's Go decoder will read it: keys
/// match case-insensitively, the last duplicate wins, <c>null</c> counts as empty, and only the
/// first JSON value is read. Everything else in the body is skipped, never materialised.
/// </summary>
internal static class ModelPeek
{
    /// <summary>Longest name worth looking up: host (350) + namespace, model and tag (80 each) + separators.</summary>
    public const int MaxNameChars = 600;

    /// <summary>
    /// Reader options for request bodies. Go's encoding/json limits nesting to 10000;
    /// Utf8JsonReader's default of 64 would refuse bodies Ollama accepts (deep JSON-schema
    /// "format" objects).
    /// </summary>
    public static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 10_000 };

    /// <summary>
    /// Scans <paramref name="body"/>. <paramref name="acceptName"/> enables the deprecated
    /// <c>name</c> key, used when <c>model</c> is absent or empty (pull, show, push, delete).
    /// The unescaped name is written to <paramref name="nameBuffer"/>, which must hold
    /// <see cref="MaxNameChars"/> chars. The reading is <see cref="JsonBodyScan"/>'s, fed the body whole.
    /// </summary>
    public static ModelPeekResult Peek(ReadOnlySpan<byte> body, bool acceptName, Span<char> nameBuffer)
    {
        using var scan = JsonBodyScan.Rent(acceptName);
        return scan.ReadWhole(body, nameBuffer);
    }

    /// <summary>
    /// Unescapes the model's string <paramref name="token"/> (quotes included) into
    /// <paramref name="nameBuffer"/> as Go's decoder would, invalid parts as U+FFFD.
    /// </summary>
    /// <param name="token">The whole token, at most <c>MaxNameChars * 6</c> bytes between its quotes.</param>
    /// <param name="tokenStart">Where the token starts in the body, for the result.</param>
    public static ModelPeekResult Decode(ReadOnlySpan<byte> token, int tokenStart, Span<char> nameBuffer)
    {
        // The token on its own is a complete JSON string value: a second reader unescapes it.
        var reader = new Utf8JsonReader(token, isFinalBlock: true, default);
        reader.Read();
        var written = reader.ValueIsEscaped
            ? CopyEscaped(ref reader, nameBuffer)
            : TranscodeRaw(reader.ValueSpan, nameBuffer);
        if (written < 0)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelTooLong);
        }

        if (written == 0)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelMissing);
        }

        return new ModelPeekResult(PeekStatus.Found, tokenStart, token.Length, written);
    }

    private static int CopyEscaped(ref Utf8JsonReader reader, Span<char> nameBuffer)
    {
        try
        {
            return reader.CopyString(nameBuffer);
        }
        catch (ArgumentException)
        {
            return -1;
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape or invalid UTF-8 next to escapes: .NET refuses the string,
            // Go decodes it with U+FFFD in place of each bad part.
            return UnescapeReplacing(reader.ValueSpan, nameBuffer);
        }
    }

    /// <summary>
    /// Go's <c>unquote</c> (encoding/json decode.go): a surrogate escape not followed by its pair
    /// becomes U+FFFD; raw invalid UTF-8 becomes U+FFFD too. The reader has already validated the
    /// escape syntax. Returns -1 when the result does not fit.
    /// </summary>
    private static int UnescapeReplacing(ReadOnlySpan<byte> raw, Span<char> nameBuffer)
    {
        var written = 0;
        var i = 0;
        while (i < raw.Length)
        {
            var backslash = raw[i..].IndexOf((byte)'\\');
            var run = backslash < 0 ? raw[i..] : raw.Slice(i, backslash);
            if (!run.IsEmpty)
            {
                if (Encoding.UTF8.GetCharCount(run) > nameBuffer.Length - written)
                {
                    return -1;
                }

                written += Encoding.UTF8.GetChars(run, nameBuffer[written..]);
                i += run.Length;
                continue;
            }

            if (written == nameBuffer.Length)
            {
                return -1;
            }

            var escape = raw[i + 1];
            i += 2;
            if (escape != (byte)'u')
            {
                nameBuffer[written++] = escape switch
                {
                    (byte)'b' => '\b',
                    (byte)'f' => '\f',
                    (byte)'n' => '\n',
                    (byte)'r' => '\r',
                    (byte)'t' => '\t',
                    _ => (char)escape, // '"', '\\', '/'
                };
                continue;
            }

            var unit = (char)Hex4(raw.Slice(i, 4));
            i += 4;
            if (!char.IsSurrogate(unit))
            {
                nameBuffer[written++] = unit;
                continue;
            }

            if (char.IsHighSurrogate(unit) && i + 6 <= raw.Length && raw[i] == (byte)'\\' && raw[i + 1] == (byte)'u'
                && char.IsLowSurrogate((char)Hex4(raw.Slice(i + 2, 4))))
            {
                if (written + 2 > nameBuffer.Length)
                {
                    return -1;
                }

                nameBuffer[written++] = unit;
                nameBuffer[written++] = (char)Hex4(raw.Slice(i + 2, 4));
                i += 6;
                continue;
            }

            nameBuffer[written++] = '\uFFFD';
        }

        return written;
    }

    private static int Hex4(ReadOnlySpan<byte> hex)
    {
        var value = 0;
        foreach (var digit in hex)
        {
            value = (value << 4) | (digit <= '9' ? digit - '0' : (digit | 0x20) - 'a' + 10);
        }

        return value;
    }

    private static int TranscodeRaw(ReadOnlySpan<byte> raw, Span<char> nameBuffer)
    {
        if (Encoding.UTF8.GetMaxCharCount(raw.Length) > nameBuffer.Length && Encoding.UTF8.GetCharCount(raw) > nameBuffer.Length)
        {
            return -1;
        }

        // Decoding replaces invalid UTF-8 with U+FFFD, as Go's decoder does.
        return Encoding.UTF8.GetChars(raw, nameBuffer);
    }
}
