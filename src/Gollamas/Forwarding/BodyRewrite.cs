using System.Text.Json;

namespace Gollamas.Forwarding;

/// <summary>
/// Plans the splices that make Ollama read a model's <see cref="RequestDefaults"/> from a request
/// body: <c>keep_alive</c> at the top level, <c>num_ctx</c> inside <c>options</c>. One scan with
/// <see cref="Utf8JsonReader"/> finds where Go's decoder will take each value from; everything
/// else is skipped, never materialised, and the body is never re-serialised.
/// </summary>
/// <remarks>
/// The rules are those of Go's encoding/json decoding into Ollama's request types (api/types.go):
/// <list type="bullet">
/// <item>Top-level keys match struct fields case-insensitively by <c>foldName</c> (fold.go): ASCII
/// case, plus U+212A KELVIN SIGN for k and U+017F LONG S for s, the only non-ASCII runes that fold
/// onto the letters of these names. The last duplicate wins.</item>
/// <item><c>keep_alive</c> is a <c>*Duration</c>: <c>null</c> sets it back to nil, "not set".</item>
/// <item><c>options</c> is a <c>map[string]any</c>: a later object merges into the map already
/// there (decode.go <c>object</c> reuses a non-nil map), <c>null</c> resets it to nil. Any other
/// type is a decode error (400): when the last <c>options</c> is one, <c>num_ctx</c> is left alone.</item>
/// <item>Map keys match exactly. A <c>null</c> value stays in the map, and
/// <c>Options.FromMap</c> skips nil values: <c>"num_ctx":null</c> is "not set".</item>
/// </list>
/// Only the first JSON value is read, as Go's <c>Decoder.Decode</c> does; bytes after it stay as
/// they are.
/// </remarks>
internal static class BodyRewrite
{
    // A key that can match "keep_alive", "options" or "num_ctx" is at most 10 runes; escaped as
    // \uXXXX each, 60 bytes. Longer escaped keys cannot match.
    private const int MaxEscapedKeyBytes = 64;

    /// <summary>
    /// Adds the splices that apply <paramref name="defaults"/> to <paramref name="body"/>, whose
    /// <see cref="ForwardBody.Original"/> is a body <see cref="ModelPeek"/> accepted (its first
    /// value a valid JSON object). <paramref name="body"/> may already hold the model splice; the
    /// ones added here never overlap it. Allocates nothing.
    /// </summary>
    /// <returns><paramref name="body"/> with up to two more splices; unchanged when <paramref name="defaults"/> is empty or already satisfied.</returns>
    public static ForwardBody Apply(ForwardBody body, RequestDefaults defaults)
    {
        if (defaults.IsEmpty)
        {
            return body;
        }

        var json = body.Original.Span;
        Layout layout;
        try
        {
            if (!TryScan(json, out layout))
            {
                return body;
            }
        }
        catch (JsonException)
        {
            // Not a body ModelPeek accepts; Ollama will refuse it whatever is spliced in.
            return body;
        }

        var topHasMembers = layout.TopHasMembers;
        if (!defaults.KeepAliveValue.IsEmpty)
        {
            if (layout.KeepAlive.IsAbsent)
            {
                // Before the closing brace: a later key wins in Go, so this also beats an earlier null.
                body = body.WithSplice(layout.TopClose, 0, Member(defaults.KeepAliveMember, ref topHasMembers));
            }
            else if (defaults.ForceKeepAlive)
            {
                body = Replace(body, json, layout.KeepAlive, defaults.KeepAliveValue);
            }
        }

        if (defaults.NumCtx is not null && layout.Options != OptionsKind.Invalid)
        {
            if (!layout.NumCtx.IsAbsent)
            {
                if (defaults.ForceNumCtx)
                {
                    body = Replace(body, json, layout.NumCtx, defaults.NumCtxValue);
                }
            }
            else if (layout.Options == OptionsKind.Object)
            {
                // Into the last options object: Go merges it into the map the earlier ones built.
                var member = layout.OptionsEmpty ? defaults.NumCtxMember[1..] : defaults.NumCtxMember;
                body = body.WithSplice(layout.OptionsClose, 0, member);
            }
            else
            {
                body = body.WithSplice(layout.TopClose, 0, Member(defaults.OptionsMember, ref topHasMembers));
            }
        }

        return body;
    }

    /// <summary>A member fragment (<c>,"key":value</c>) without its comma when the object has no member yet.</summary>
    private static ReadOnlyMemory<byte> Member(ReadOnlyMemory<byte> member, ref bool objectHasMembers)
    {
        var fragment = objectHasMembers ? member : member[1..];
        objectHasMembers = true;
        return fragment;
    }

    private static ForwardBody Replace(ForwardBody body, ReadOnlySpan<byte> json, ValueToken token, ReadOnlyMemory<byte> value) =>
        json.Slice(token.Start, token.Length).SequenceEqual(value.Span)
            ? body
            : body.WithSplice(token.Start, token.Length, value);

    private static bool TryScan(ReadOnlySpan<byte> json, out Layout layout)
    {
        layout = default;
        var reader = new Utf8JsonReader(json, isFinalBlock: true, new JsonReaderState(ModelPeek.ReaderOptions));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            layout.TopHasMembers = true;
            var key = ClassifyTopLevel(ref reader);
            reader.Read();
            switch (key)
            {
                case TopLevelKey.KeepAlive:
                    layout.KeepAlive = reader.TokenType == JsonTokenType.Null ? default : ReadValue(ref reader);
                    break;
                case TopLevelKey.Options:
                    ReadOptions(ref reader, ref layout);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0)
        {
            return false;
        }

        layout.TopClose = (int)reader.TokenStartIndex;
        return true;
    }

    private static void ReadOptions(ref Utf8JsonReader reader, ref Layout layout)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            layout.Options = OptionsKind.Null;
            layout.NumCtx = default;
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            layout.Options = OptionsKind.Invalid;
            reader.Skip();
            return;
        }

        layout.Options = OptionsKind.Object;
        layout.OptionsEmpty = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            layout.OptionsEmpty = false;
            var isNumCtx = IsNumCtx(ref reader);
            reader.Read();
            if (!isNumCtx)
            {
                reader.Skip();
                continue;
            }

            layout.NumCtx = reader.TokenType == JsonTokenType.Null ? default : ReadValue(ref reader);
        }

        layout.OptionsClose = (int)reader.TokenStartIndex;
    }

    /// <summary>The whole value the reader is on (an object or array to its closing bracket), leaving the reader at its end.</summary>
    private static ValueToken ReadValue(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return new ValueToken(start, (int)reader.BytesConsumed - start);
    }

    private static TopLevelKey ClassifyTopLevel(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return MatchTopLevel(reader.ValueSpan);
        }

        Span<byte> unescaped = stackalloc byte[MaxEscapedKeyBytes];
        return TryUnescape(ref reader, unescaped, out var length) ? MatchTopLevel(unescaped[..length]) : TopLevelKey.Other;
    }

    private static TopLevelKey MatchTopLevel(ReadOnlySpan<byte> key)
    {
        if (GoFoldEquals(key, "keep_alive"u8))
        {
            return TopLevelKey.KeepAlive;
        }

        return GoFoldEquals(key, "options"u8) ? TopLevelKey.Options : TopLevelKey.Other;
    }

    private static bool IsNumCtx(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.SequenceEqual("num_ctx"u8);
        }

        Span<byte> unescaped = stackalloc byte[MaxEscapedKeyBytes];
        return TryUnescape(ref reader, unescaped, out var length) && unescaped[..length].SequenceEqual("num_ctx"u8);
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

    /// <summary>A value's bytes in the body; a length of 0 means "not set".</summary>
    private readonly record struct ValueToken(int Start, int Length)
    {
        public bool IsAbsent => Length == 0;
    }

    /// <summary>Where Go takes <c>keep_alive</c> and <c>options.num_ctx</c> from, and where members can be added.</summary>
    private struct Layout
    {
        /// <summary>The top-level object's closing brace.</summary>
        public int TopClose;

        public bool TopHasMembers;

        /// <summary>The last <c>keep_alive</c> value, absent when none or the last is null.</summary>
        public ValueToken KeepAlive;

        /// <summary>What the last <c>options</c> value was.</summary>
        public OptionsKind Options;

        /// <summary>The closing brace of the last <c>options</c> object.</summary>
        public int OptionsClose;

        public bool OptionsEmpty;

        /// <summary>The last <c>num_ctx</c> value in the options map, absent when none, null, or reset by an options null.</summary>
        public ValueToken NumCtx;
    }

    private enum TopLevelKey
    {
        Other,
        KeepAlive,
        Options,
    }

    private enum OptionsKind
    {
        None,
        Null,
        Object,
        Invalid,
    }
}
