using System.Globalization;

namespace Gollamas.Simulator;

/// <summary>
/// The simulator's tokenizer and chat template: one token per whitespace-separated word (its
/// FNV-1a hash), and a chat rendered as, per message, a role marker, its words and an end
/// marker, then the assistant's marker the answer follows. Rendering the history of a
/// conversation again gives the earlier prompt, then the answer's words, as a prefix, which is
/// what makes a slot's cache serve the next turn, as Ollama's templates do.
/// </summary>
public static class SimTokens
{
    private const int EndOfMessage = int.MinValue;

    /// <summary>The tokens of <paramref name="text"/>, appended to <paramref name="into"/>.</summary>
    public static void AddWords(string text, List<int> into)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(into);
        var span = text.AsSpan();
        var i = 0;
        while (i < span.Length)
        {
            while (i < span.Length && char.IsWhiteSpace(span[i]))
            {
                i++;
            }

            var start = i;
            while (i < span.Length && !char.IsWhiteSpace(span[i]))
            {
                i++;
            }

            if (i > start)
            {
                into.Add(Hash(span[start..i]));
            }
        }
    }

    public static int[] Words(string text)
    {
        var tokens = new List<int>();
        AddWords(text, tokens);
        return [.. tokens];
    }

    /// <summary>A chat's prompt: each (role, content) in order, then the assistant's marker.</summary>
    public static int[] Chat(IEnumerable<(string Role, string Content)> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var tokens = new List<int>();
        foreach (var (role, content) in messages)
        {
            tokens.Add(RoleMarker(role));
            AddWords(content, tokens);
            tokens.Add(EndOfMessage);
        }

        tokens.Add(RoleMarker("assistant"));
        return [.. tokens];
    }

    /// <summary>A generation's prompt: the system text's words, then the prompt's.</summary>
    public static int[] Generate(string? system, string prompt)
    {
        var tokens = new List<int>();
        if (!string.IsNullOrEmpty(system))
        {
            AddWords(system, tokens);
        }

        AddWords(prompt, tokens);
        return [.. tokens];
    }

    /// <summary>
    /// The words of an answer: <paramref name="count"/> words that depend only on the model and
    /// the prompt, so the same request gets the same answer from any server, in any run.
    /// </summary>
    public static string[] Answer(string model, int[] prompt, int count)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var seed = (uint)Hash(model.AsSpan());
        foreach (var token in prompt.AsSpan(Math.Max(0, prompt.Length - 64)))
        {
            seed = (seed ^ (uint)token) * 16777619u;
        }

        var words = new string[count];
        for (var i = 0; i < count; i++)
        {
            seed = (seed ^ (uint)i) * 16777619u;
            seed ^= seed >> 13;
            words[i] = "a" + (seed % 8192).ToString(CultureInfo.InvariantCulture);
        }

        return words;
    }

    /// <summary>The length of the common prefix of two token sequences.</summary>
    public static int CommonPrefix(ReadOnlySpan<int> left, ReadOnlySpan<int> right) => left.CommonPrefixLength(right);

    private static int RoleMarker(string role) => int.MinValue + 1 + (int)((uint)Hash(role.AsSpan()) % 1024);

    private static int Hash(ReadOnlySpan<char> word)
    {
        var hash = 2166136261u;
        foreach (var c in word)
        {
            hash = (hash ^ c) * 16777619u;
        }

        // Non-negative: the negative values are the markers'.
        return (int)(hash & 0x7FFFFFFF);
    }
}
