using System.Globalization;
using System.Text.Json;
using Gollamas.Backends;
using Gollamas.Routing;

namespace Gollamas.Endpoints;

/// <summary>
/// Merges the <c>{"models":[…]}</c> answers of several servers: each server's list is filtered
/// to the models routed to that server (a model it has but does not serve here stays hidden),
/// a model seen on two servers appears once, and with alias listing each entry is followed by
/// one entry per alias.
/// </summary>
internal static class ModelListMerger
{
    /// <param name="results">The servers' answers.</param>
    /// <param name="table">The routes the entries are matched to.</param>
    /// <param name="includeUnrouted">
    /// Also list entries no route matches, once each (running models, with running-model routing on).
    /// </param>
    public static List<ListedModel> Merge(FanOutResult[] results, RouteTable table, bool includeUnrouted = false)
    {
        var merged = new List<ListedModel>();
        var seen = new HashSet<ModelRoute>();
        var seenUnrouted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (backend, document) in results)
        {
            if (document is null
                || document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("models"u8, out var models)
                || models.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var entry in models.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object || ListedModel.ReadName(entry) is not { } listed)
                {
                    continue;
                }

                if (!table.TryResolveListedModel(listed, out var route))
                {
                    if (includeUnrouted && ModelName.TryParse(listed, out var parsed) && seenUnrouted.Add(parsed.Canonical))
                    {
                        merged.Add(new ListedModel(entry, null, null, ReadTime(entry, "modified_at"u8)));
                    }

                    continue;
                }

                if (!route.IsServedBy(backend) || !seen.Add(route))
                {
                    continue;
                }

                var modified = ReadTime(entry, "modified_at"u8);
                merged.Add(new ListedModel(entry, route, null, modified));
                if (table.ListAliases)
                {
                    foreach (var alias in route.Aliases)
                    {
                        merged.Add(new ListedModel(entry, route, alias, modified));
                    }
                }
            }
        }

        return merged;
    }

    /// <summary>Most recently modified first, as Ollama orders <c>/api/tags</c>; stable for equal times.</summary>
    public static void SortByModifiedDescending(List<ListedModel> models)
    {
        var ordered = models.Select((m, i) => (m, i)).OrderByDescending(static x => x.m.ModifiedAt).ThenBy(static x => x.i).Select(static x => x.m).ToList();
        models.Clear();
        models.AddRange(ordered);
    }

    /// <summary>By name, as gollamas ordered <c>/api/ps</c>; stable for equal names.</summary>
    public static void SortById(List<ListedModel> models)
    {
        var ordered = models.Select((m, i) => (m, i)).OrderBy(static x => x.m.Id, StringComparer.OrdinalIgnoreCase).ThenBy(static x => x.i).Select(static x => x.m).ToList();
        models.Clear();
        models.AddRange(ordered);
    }

    private static DateTimeOffset ReadTime(JsonElement entry, ReadOnlySpan<byte> property) =>
        entry.TryGetProperty(property, out var value)
        && value.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time)
            ? time
            : DateTimeOffset.MinValue;
}
