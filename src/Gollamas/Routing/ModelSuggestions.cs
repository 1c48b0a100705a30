using Gollamas.Config;
using Gollamas.Security;

namespace Gollamas.Routing;

/// <summary>
/// The configured models (and aliases) an unknown model name probably meant, for the 404: the
/// same model with another tag first (<c>llama3.2:3b</c> for <c>llama3.2</c>), then names a
/// typo away (<see cref="EditDistance"/>), in declaration order among equals.
/// </summary>
internal static class ModelSuggestions
{
    /// <summary>
    /// At most <paramref name="count"/> names from <paramref name="table"/> close to
    /// <paramref name="requested"/>, as configured; empty when none is close.
    /// </summary>
    public static IReadOnlyList<string> Closest(RouteTable table, string requested, int count)
    {
        var wanted = requested.Trim().ToLowerInvariant();
        var hasParsed = ModelName.TryParse(requested, out var parsed);
        var candidates = new List<Candidate>();
        foreach (var model in table.Models)
        {
            if (model.IsRunning)
            {
                continue;
            }

            foreach (var name in model.Aliases.Prepend(model.Name))
            {
                var sameModel = hasParsed && ModelName.TryParse(name, out var candidate)
                    && candidate.Model.Equals(parsed.Model, StringComparison.OrdinalIgnoreCase)
                    && candidate.Namespace.Equals(parsed.Namespace, StringComparison.OrdinalIgnoreCase)
                    && candidate.Host.Equals(parsed.Host, StringComparison.OrdinalIgnoreCase);
                // Both in Ollama's short form when they parse, so a missing ":latest" is no typo.
                var distance = hasParsed && ModelName.TryParse(name, out var shortest)
                    ? EditDistance.Between(parsed.DisplayShortest.ToLowerInvariant(), shortest.DisplayShortest.ToLowerInvariant())
                    : EditDistance.Between(wanted, name.ToLowerInvariant());

                // A third of the letters wrong (at least two) is still a typo; more is another name.
                if (sameModel || distance <= Math.Max(2, wanted.Length / 3))
                {
                    candidates.Add(new Candidate(name, sameModel ? 0 : 1, distance, candidates.Count));
                }
            }
        }

        return [.. candidates
            .OrderBy(static c => c.Rank)
            .ThenBy(static c => c.Distance)
            .ThenBy(static c => c.Order)
            .Select(static c => c.Name)
            .Distinct(StringComparer.Ordinal)
            .Take(count)];
    }

    /// <summary>
    /// Ollama's 404 wording for a model no route has, with the configured names it probably
    /// meant: "model 'lama3.2' not found; did you mean llama3.2?". The name is echoed without
    /// control characters.
    /// </summary>
    public static string NotFoundMessage(RouteTable table, string requested)
    {
        var shown = ControlCharacters.Printable(requested);
        var closest = Closest(table, requested, 3);
        return closest.Count switch
        {
            0 => $"model '{shown}' not found",
            1 => $"model '{shown}' not found; did you mean {closest[0]}?",
            _ => $"model '{shown}' not found; did you mean {string.Join(", ", closest.Take(closest.Count - 1))} or {closest[^1]}?",
        };
    }

    // A class, not a tuple: sorting it shares the binary's code for reference types.
    private sealed record Candidate(string Name, int Rank, int Distance, int Order);
}
