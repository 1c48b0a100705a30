using System.CommandLine;
using Gollamas.Config;

namespace Gollamas.Cli;

/// <summary>
/// What was nearly right: a flag a typo away from one of ours (<c>--proxi</c>: did you mean
/// --proxy?), a variable named like ours that no setting reads (<c>GOLLAMAS_PROXY</c>: did you
/// mean GOLLAMAS_PROXIES?).
/// </summary>
internal static class NearMisses
{
    private const string Prefix = "GOLLAMAS_";

    /// <summary>
    /// One sentence per unknown flag of <paramref name="parseResult"/>, naming the closest flag
    /// of the command when there is one; the tokens they account for (the flag, and the word after
    /// it, probably its value) in <paramref name="explained"/>.
    /// </summary>
    public static List<string> UnknownFlags(ParseResult parseResult, IReadOnlyList<string> args, HashSet<string> explained)
    {
        var flags = parseResult.CommandResult.Command.Options
            .SelectMany(static option => option.Aliases.Prepend(option.Name))
            .Where(static name => name.StartsWith("--", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        var messages = new List<string>();
        foreach (var token in parseResult.UnmatchedTokens)
        {
            if (!token.StartsWith('-') || token.Length < 2 || !explained.Add(token))
            {
                continue;
            }

            var name = token.Split('=', 2)[0];
            var closest = Closest(name, flags);
            messages.Add(closest is null ? $"unknown flag {name}" : $"unknown flag {name}; did you mean {closest}?");

            // "--proxi x": x is the misspelt flag's value, not an argument of its own.
            var at = IndexOf(args, token);
            if (!token.Contains('=', StringComparison.Ordinal) && at >= 0 && at + 1 < args.Count && !args[at + 1].StartsWith('-'))
            {
                explained.Add(args[at + 1]);
            }
        }

        return messages;
    }

    /// <summary>
    /// A warning for each variable in <paramref name="names"/> that starts with GOLLAMAS_ but is
    /// no setting's, naming the closest one when there is one.
    /// </summary>
    public static IEnumerable<string> UnknownVariables(IEnumerable<string> names)
    {
        var known = Settings.All.Select(static s => s.Variable).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names.Where(static n => n.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
        {
            if (known.Contains(name))
            {
                continue;
            }

            var closest = Closest(name, known);
            yield return closest is null
                ? $"warning: {name} is set, but gollamas has no such variable"
                : $"warning: {name} is set, but gollamas has no such variable; did you mean {closest}?";
        }
    }

    private static int IndexOf(IReadOnlyList<string> args, string token)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (string.Equals(args[i], token, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    // The closest name, if it is a typo away: a third of the letters wrong (at least two).
    private static string? Closest(string given, IEnumerable<string> names)
    {
        string? closest = null;
        var best = int.MaxValue;
        foreach (var name in names)
        {
            var distance = EditDistance.Between(given.ToUpperInvariant(), name.ToUpperInvariant());
            if (distance < best)
            {
                (closest, best) = (name, distance);
            }
        }

        return best <= Math.Max(2, given.Length / 3) ? closest : null;
    }
}
