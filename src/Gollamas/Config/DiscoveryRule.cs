namespace Gollamas.Config;

/// <summary>
/// A connection that serves the models it has (<c>--discover</c>): every model its
/// <c>/api/tags</c> lists that the patterns admit becomes a route to it. With no
/// <paramref name="Include"/> pattern every model is admitted; an <paramref name="Exclude"/>
/// pattern takes one out whatever includes it.
/// </summary>
/// <param name="ConnectionId">The connection, by id.</param>
/// <param name="Include">Patterns of the models served (<c>*</c> any text, <c>?</c> one character).</param>
/// <param name="Exclude">Patterns of the models never served from there.</param>
internal sealed record DiscoveryRule(string ConnectionId, IReadOnlyList<string> Include, IReadOnlyList<string> Exclude)
{
    /// <summary>
    /// Whether the model is served. A pattern matches when it matches any spelling of the
    /// name Ollama accepts, ignoring case: <c>llama3.2</c> admits <c>llama3.2:latest</c>,
    /// <c>qwen3:*</c> every tag of qwen3, <c>*:70b</c> every 70b model.
    /// </summary>
    public bool Admits(ModelName model)
    {
        var spellings = model.Spellings();
        return (Include.Count == 0 || Include.Any(p => MatchesAny(p, spellings)))
            && !Exclude.Any(p => MatchesAny(p, spellings));
    }

    /// <summary>Whether <paramref name="pattern"/> is one a rule can hold: a model name's characters, <c>*</c> and <c>?</c>.</summary>
    public static bool IsValidPattern(string pattern) =>
        pattern.Length is > 0 and <= 512 && pattern.All(static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':' or '/' or '*' or '?');

    /// <summary>The rule as the start-up log says it: "every model", "llama*, qwen3:* but not *:70b".</summary>
    public string Describe()
    {
        var included = Include.Count == 0 ? "every model" : string.Join(", ", Include);
        return Exclude.Count == 0 ? included : $"{included} but not {string.Join(", ", Exclude)}";
    }

    private static bool MatchesAny(string pattern, IReadOnlyList<string> spellings)
    {
        foreach (var spelling in spellings)
        {
            if (Matches(pattern, spelling))
            {
                return true;
            }
        }

        return false;
    }

    // The classic two-pointer glob match: on a mismatch, go back to the last '*' and let it take
    // one character more. Linear in practice, never exponential.
    internal static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
