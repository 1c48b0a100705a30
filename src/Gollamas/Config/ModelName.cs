namespace Gollamas.Config;

/// <summary>
/// An Ollama model reference split into its four parts, <c>host/namespace/model:tag</c>, with
/// Ollama's defaults filled in. Parsing and validation follow ollama <c>types/model/name.go</c>
/// (<c>ParseName</c> + <c>IsValid</c>) exactly, so a name accepted here is one Ollama accepts.
/// Case is kept as given; callers compare <see cref="Canonical"/> with
/// <see cref="StringComparer.OrdinalIgnoreCase"/>, as Ollama compares parts with <c>EqualFold</c>.
/// </summary>
internal readonly record struct ModelName(string Host, string Namespace, string Model, string Tag)
{
    public const string DefaultHost = "registry.ollama.ai";
    public const string DefaultNamespace = "library";
    public const string DefaultTag = "latest";

    // Current servers strip this source suffix before parsing ("the local copy of"), see ollama
    // internal/modelref/modelref.go. ":cloud" is deliberately not stripped: a cloud model is a
    // different route, so it stays part of the tag and fails validation like any other ':'.
    private const string LocalSuffix = ":local";
    private const string CloudSuffix = ":cloud";

    private const int MaxHostLength = 350;
    private const int MaxPartLength = 80;

    /// <summary>"host/namespace/model:tag", the form Ollama's <c>Name.String()</c> prints.</summary>
    public string Canonical => $"{Host}/{Namespace}/{Model}:{Tag}";

    /// <summary>
    /// Ollama's <c>DisplayShortest</c>: drops the default host, then the default namespace; the
    /// tag is always printed. This is the form <c>/api/tags</c> and <c>/api/ps</c> report.
    /// </summary>
    public string DisplayShortest =>
        !IsDefaultHost ? Canonical
        : !IsDefaultNamespace ? $"{Namespace}/{Model}:{Tag}"
        : $"{Model}:{Tag}";

    private bool IsDefaultHost => Host.Equals(DefaultHost, StringComparison.OrdinalIgnoreCase);

    private bool IsDefaultNamespace => Namespace.Equals(DefaultNamespace, StringComparison.OrdinalIgnoreCase);

    private bool IsDefaultTag => Tag.Equals(DefaultTag, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Parses a model reference the way a current Ollama server does: surrounding whitespace
    /// trimmed, one trailing <c>:local</c> removed, then <c>ParseName</c> and <c>IsValid</c>.
    /// </summary>
    /// <returns><see langword="false"/> when Ollama would reject the name.</returns>
    public static bool TryParse(ReadOnlySpan<char> text, out ModelName name)
    {
        name = default;
        var rest = text.Trim();
        if (rest.EndsWith(LocalSuffix, StringComparison.OrdinalIgnoreCase))
        {
            rest = rest[..^LocalSuffix.Length];

            // Ollama answers 400 "use either :local or :cloud, not both" for this spelling.
            if (rest.EndsWith(CloudSuffix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        // ParseNameBare. Ollama's cutPromised turns an empty side of a separator that is present
        // into a "!MISSING!" placeholder that fails validation; returning false is the same outcome.
        ReadOnlySpan<char> host = default;
        ReadOnlySpan<char> ns = default;
        ReadOnlySpan<char> tag = default;
        ReadOnlySpan<char> model;

        // '/' is illegal in a tag, so only a ':' after the last '/' starts one; an earlier ':'
        // belongs to host:port.
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (tag.IsEmpty || rest.IsEmpty)
            {
                return false;
            }
        }

        var slash = rest.LastIndexOf('/');
        if (slash < 0)
        {
            model = rest;
        }
        else
        {
            model = rest[(slash + 1)..];
            rest = rest[..slash];
            if (model.IsEmpty || rest.IsEmpty)
            {
                return false;
            }

            slash = rest.LastIndexOf('/');
            if (slash < 0)
            {
                ns = rest;
            }
            else
            {
                ns = rest[(slash + 1)..];
                rest = rest[..slash];
                if (ns.IsEmpty || rest.IsEmpty)
                {
                    return false;
                }

                // Anything before "://" is the protocol scheme, which is never part of the name.
                var scheme = rest.IndexOf("://", StringComparison.Ordinal);
                host = scheme < 0 ? rest : rest[(scheme + 3)..];
            }
        }

        // Merge with DefaultName(): only parts that were absent (empty) take the default.
        if (!IsValidPart(host, MaxHostLength, allowDot: true, allowColon: true, emptyMeansDefault: true)
            || !IsValidPart(ns, MaxPartLength, allowDot: false, allowColon: false, emptyMeansDefault: true)
            || !IsValidPart(model, MaxPartLength, allowDot: true, allowColon: false, emptyMeansDefault: false)
            || !IsValidPart(tag, MaxPartLength, allowDot: true, allowColon: false, emptyMeansDefault: true))
        {
            return false;
        }

        name = new ModelName(
            host.IsEmpty ? DefaultHost : host.ToString(),
            ns.IsEmpty ? DefaultNamespace : ns.ToString(),
            model.ToString(),
            tag.IsEmpty ? DefaultTag : tag.ToString());
        return true;
    }

    /// <summary>
    /// Every spelling a client may send that Ollama resolves to this name: the tag may be left
    /// out only when it is <c>latest</c>, the namespace only when it is <c>library</c> on the
    /// default host, and the host only when it is the default. Shortest prefix first, each
    /// without then with the tag; no duplicates.
    /// </summary>
    public IReadOnlyList<string> Spellings()
    {
        var spellings = new List<string>(6);
        if (IsDefaultHost && IsDefaultNamespace)
        {
            AddWithAndWithoutTag(spellings, Model);
        }

        if (IsDefaultHost)
        {
            AddWithAndWithoutTag(spellings, $"{Namespace}/{Model}");
        }

        AddWithAndWithoutTag(spellings, $"{Host}/{Namespace}/{Model}");
        return spellings;
    }

    /// <inheritdoc/>
    public override string ToString() => Canonical;

    private void AddWithAndWithoutTag(List<string> spellings, string withoutTag)
    {
        if (IsDefaultTag)
        {
            spellings.Add(withoutTag);
        }

        spellings.Add($"{withoutTag}:{Tag}");
    }

    // ollama isValidPart: ASCII only (it walks bytes), first char a letter, digit or '_'; then
    // also '-' and '_', '.' except in the namespace, ':' only in the host.
    private static bool IsValidPart(ReadOnlySpan<char> part, int maxLength, bool allowDot, bool allowColon, bool emptyMeansDefault)
    {
        if (part.IsEmpty)
        {
            return emptyMeansDefault;
        }

        if (part.Length > maxLength || !IsAsciiLetterDigitOrUnderscore(part[0]))
        {
            return false;
        }

        foreach (var c in part[1..])
        {
            var allowed = c switch
            {
                '-' => true,
                '.' => allowDot,
                ':' => allowColon,
                _ => IsAsciiLetterDigitOrUnderscore(c),
            };
            if (!allowed)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAsciiLetterDigitOrUnderscore(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
