namespace Gollamas.Bodies;

/// <summary>
/// Plans the splices that make Ollama read a model's <see cref="RequestDefaults"/> from a request
/// body: <c>keep_alive</c> at the top level, <c>num_ctx</c> inside <c>options</c>, where the
/// <see cref="BodyLayout"/> of <see cref="JsonBodyScan"/>'s one reading says Go's decoder will
/// take each value from. The body is never re-serialised.
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
internal static class RequestDefaultsSplice
{
    /// <summary>
    /// Adds the splices that apply <paramref name="defaults"/> to <paramref name="body"/>, reading
    /// <see cref="ForwardBody.Original"/> once with <see cref="JsonBodyScan"/>. For bodies whose
    /// layout is already known, <see cref="Apply(ForwardBody, in BodyLayout, RequestDefaults)"/>
    /// does the same without reading them.
    /// </summary>
    public static ForwardBody Apply(ForwardBody body, RequestDefaults defaults)
    {
        if (defaults.IsEmpty)
        {
            return body;
        }

        using var scan = JsonBodyScan.Rent(acceptName: false);
        return Apply(body, scan.ReadLayout(body.Original.Span), defaults);
    }

    /// <summary>
    /// Adds the splices that apply <paramref name="defaults"/> to <paramref name="body"/>, whose
    /// <paramref name="layout"/> <see cref="JsonBodyScan"/> found; the body's bytes are not read.
    /// <paramref name="body"/> may already hold the model splice; the ones added here never
    /// overlap it. Allocates nothing.
    /// </summary>
    /// <returns><paramref name="body"/> with up to two more splices; unchanged when <paramref name="defaults"/> is empty or already satisfied, or the body is not a JSON object (Ollama will refuse it whatever is spliced in).</returns>
    public static ForwardBody Apply(ForwardBody body, in BodyLayout layout, RequestDefaults defaults)
    {
        if (defaults.IsEmpty || !layout.IsObject)
        {
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
                body = Replace(body, layout.KeepAlive, defaults.KeepAliveValue);
            }
        }

        if (defaults.NumCtx is not null && layout.Options != OptionsKind.Invalid)
        {
            if (!layout.NumCtx.IsAbsent)
            {
                if (defaults.ForceNumCtx)
                {
                    body = Replace(body, layout.NumCtx, defaults.NumCtxValue);
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

    private static ForwardBody Replace(ForwardBody body, in BodyValue token, ReadOnlyMemory<byte> value) =>
        token.Is(value.Span) ? body : body.WithSplice(token.Start, token.Length, value);
}
