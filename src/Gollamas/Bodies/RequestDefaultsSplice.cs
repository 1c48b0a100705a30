namespace Gollamas.Bodies;

/// <summary>
/// Plans the splices that make Ollama read a model's <see cref="RequestDefaults"/> from a request
/// body: each rule's top-level member or <c>options</c> entry set when absent, forced, or
/// removed, where the <see cref="BodyLayout"/> of <see cref="JsonBodyScan"/>'s one reading says
/// Go's decoder will take each value from. The body is never re-serialised.
/// </summary>
/// <remarks>
/// The rules are those of Go's encoding/json decoding into Ollama's request types (api/types.go):
/// <list type="bullet">
/// <item>Top-level keys match struct fields case-insensitively by <c>foldName</c> (fold.go): ASCII
/// case, plus U+212A KELVIN SIGN for k and U+017F LONG S for s, the only non-ASCII runes that fold
/// onto ASCII letters. The last duplicate wins.</item>
/// <item>A <c>null</c> sets a pointer field (<c>keep_alive</c> is a <c>*Duration</c>, <c>think</c>
/// a <c>*ThinkValue</c>) back to nil, "not set": a default is then added after it.</item>
/// <item><c>options</c> is a <c>map[string]any</c>: a later object merges into the map already
/// there (decode.go <c>object</c> reuses a non-nil map), <c>null</c> resets it to nil. Any other
/// type is a decode error (400): when the last <c>options</c> is one, its entries are left alone.</item>
/// <item>Map keys match exactly. A <c>null</c> value stays in the map, and
/// <c>Options.FromMap</c> skips nil values: <c>"num_ctx":null</c> is "not set".</item>
/// </list>
/// A default or forced value the body lacks is added as the last member of the top-level object
/// (or of the last <c>options</c> object), where Go reads it last; a forced value the body has
/// replaces the one Go reads. A strip removes every member Go could read the field from: every
/// fold-equal top-level key, every matching key of every <c>options</c> object, each with the
/// comma that separates it, so what is left is valid JSON. Only the first JSON value is read,
/// as Go's <c>Decoder.Decode</c> does; bytes after it stay as they are.
/// </remarks>
internal static class RequestDefaultsSplice
{
    /// <summary>
    /// Adds the splices that apply <paramref name="defaults"/> to <paramref name="body"/>, reading
    /// <see cref="ForwardBody.Original"/> once with <see cref="JsonBodyScan"/>. For bodies whose
    /// layout is already known, <see cref="TryApply"/> does the same without reading them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The body repeats a stripped field more than <see cref="BodyLayout.MaxMembers"/> times.</exception>
    public static ForwardBody Apply(ForwardBody body, RequestDefaults defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        if (defaults.IsEmpty)
        {
            return body;
        }

        using var scan = JsonBodyScan.Rent(acceptName: false, defaults.Watched);
        return Apply(body, scan.ReadLayout(body.Original.Span), defaults);
    }

    /// <summary><see cref="TryApply"/>, for a body known not to repeat a stripped field too often.</summary>
    /// <exception cref="InvalidOperationException">The body repeats a stripped field more than <see cref="BodyLayout.MaxMembers"/> times.</exception>
    public static ForwardBody Apply(ForwardBody body, in BodyLayout layout, RequestDefaults defaults) =>
        TryApply(body, layout, defaults, out var result)
            ? result
            : throw new InvalidOperationException("The body repeats a stripped field too often to remove it.");

    /// <summary>
    /// Adds the splices that apply <paramref name="defaults"/> to <paramref name="body"/>, whose
    /// <paramref name="layout"/> <see cref="JsonBodyScan"/> found, watching (at least) every field
    /// <paramref name="defaults"/> names; the body's bytes are not read. <paramref name="body"/>
    /// may already hold the model splice; the ones added here never overlap it. Allocates
    /// nothing up to <see cref="ForwardBody.MaxSplices"/> splices.
    /// </summary>
    /// <param name="result"><paramref name="body"/> with the splices; unchanged when <paramref name="defaults"/> is empty or already satisfied, or the body is not a JSON object (Ollama will refuse it whatever is spliced in).</param>
    /// <returns>False when a field to strip has more members than <see cref="BodyLayout.MaxMembers"/>: they cannot all be removed.</returns>
    public static bool TryApply(ForwardBody body, in BodyLayout layout, RequestDefaults defaults, out ForwardBody result)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        result = body;
        if (defaults.IsEmpty || !layout.IsObject)
        {
            return true;
        }

        var rules = defaults.RuleSpan;
        var watched = layout.Watched;
        var members = layout.Members;

        // What is left of the top-level object and of the last options object once the stripped
        // members are gone: whether a member added there takes a comma.
        var topLeft = layout.TopMembers;
        var optionsLeft = layout.OptionsMembers;
        var strips = false;
        foreach (var rule in rules)
        {
            if (rule.Action != RuleAction.Strip)
            {
                continue;
            }

            var field = FieldOf(watched, rule);
            if (layout.HasTooManyMembers(field))
            {
                return false;
            }

            strips = true;
            foreach (ref readonly var member in members)
            {
                if (member.Field != field)
                {
                    continue;
                }

                if (member.ObjectStart < 0)
                {
                    topLeft--;
                }
                else if (member.ObjectStart == layout.OptionsOpen && layout.Options == OptionsKind.Object)
                {
                    optionsLeft--;
                }
            }
        }

        if (strips)
        {
            body = Strip(body, layout, defaults);
        }

        var topHasMembers = topLeft > 0;
        var optionsHasMembers = optionsLeft > 0;
        foreach (var rule in rules)
        {
            if (rule.Action == RuleAction.Strip)
            {
                continue;
            }

            var value = layout.Value(FieldOf(watched, rule));
            if (!rule.IsOption)
            {
                if (value.IsAbsent)
                {
                    // Before the closing brace: a later key wins in Go, so this also beats an earlier null.
                    body = body.WithSplice(layout.TopClose, 0, Member(rule.Member, ref topHasMembers));
                }
                else if (rule.Action == RuleAction.Force)
                {
                    body = Replace(body, value, rule.Value);
                }

                continue;
            }

            if (layout.Options == OptionsKind.Invalid)
            {
                continue;
            }

            if (!value.IsAbsent)
            {
                if (rule.Action == RuleAction.Force)
                {
                    // Where Go's map took it from, even an earlier object a later one merges into.
                    body = Replace(body, value, rule.Value);
                }
            }
            else if (layout.Options == OptionsKind.Object)
            {
                // Into the last options object: Go merges it into the map the earlier ones built.
                body = body.WithSplice(layout.OptionsClose, 0, Member(rule.Member, ref optionsHasMembers));
            }
            else
            {
                // No options, or a null that reset them: an object of its own (several merge, as above).
                body = body.WithSplice(layout.TopClose, 0, Member(rule.OptionsMember, ref topHasMembers));
            }
        }

        result = body;
        return true;
    }

    /// <summary>
    /// Removes the members of the fields <paramref name="defaults"/> strips. A member takes the
    /// comma before it with it (from the end of the value before it); the first member of an
    /// object has none, so when the members from the first on are all removed, the comma before
    /// the first member left goes too.
    /// </summary>
    private static ForwardBody Strip(ForwardBody body, in BodyLayout layout, RequestDefaults defaults)
    {
        var members = layout.Members;
        for (var i = 0; i < members.Length; i++)
        {
            ref readonly var member = ref members[i];
            if (!IsStripped(layout.Watched, defaults, member.Field))
            {
                continue;
            }

            if (member.PreviousValueEnd >= 0)
            {
                body = body.WithSplice(member.PreviousValueEnd, member.ValueEnd - member.PreviousValueEnd, default);
                continue;
            }

            body = body.WithSplice(member.KeyStart, member.ValueEnd - member.KeyStart, default);

            // The run of removed members this one starts: each next one in its object, removed too.
            var last = i;
            for (var j = i + 1; j < members.Length; j++)
            {
                ref readonly var next = ref members[j];
                if (next.ObjectStart != member.ObjectStart)
                {
                    continue;
                }

                if (next.KeyStart != members[last].NextKeyStart || !IsStripped(layout.Watched, defaults, next.Field))
                {
                    break;
                }

                last = j;
            }

            if (members[last].NextKeyStart >= 0)
            {
                body = body.WithSplice(members[last].ValueEnd, members[last].NextKeyStart - members[last].ValueEnd, default);
            }
        }

        return body;
    }

    private static bool IsStripped(WatchedFields watched, RequestDefaults defaults, int field)
    {
        foreach (var rule in defaults.RuleSpan)
        {
            if (rule.Action == RuleAction.Strip && FieldOf(watched, rule) == field)
            {
                return true;
            }
        }

        return false;
    }

    private static int FieldOf(WatchedFields watched, RequestRule rule)
    {
        var field = watched.IndexOf(rule);
        return field >= 0 ? field : throw new InvalidOperationException($"The body was scanned without watching {rule.Field}.");
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
