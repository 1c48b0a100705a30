using System.Text.Json;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Json;
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
    /// <param name="keyModels">The models the request's key is limited to (<see cref="KeyModels"/>); null: every model.</param>
    public static List<ListedModel> Merge(FanOutResult[] results, RouteTable table, bool includeUnrouted = false, IReadOnlyList<string>? keyModels = null)
    {
        var merged = new List<ListedModel>();
        var seen = new HashSet<ModelRoute>();
        var seenUnrouted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (connection, document) in results)
        {
            foreach (var (entry, listed) in new ModelList(document))
            {
                if (!table.TryResolveListedModel(listed, out var route))
                {
                    if (includeUnrouted && keyModels is null && ModelName.TryParse(listed, out var parsed) && seenUnrouted.Add(parsed.Canonical))
                    {
                        merged.Add(new ListedModel(entry, null, null, ModifiedAt(entry)));
                    }

                    continue;
                }

                if (!route.IsServedBy(connection) || !KeyModels.Allows(keyModels, route, table) || !seen.Add(route))
                {
                    continue;
                }

                var modified = ModifiedAt(entry);
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
    public static void SortByModifiedDescending(List<ListedModel> models) =>
        StableSort(models, static (a, b) => b.ModifiedAt.CompareTo(a.ModifiedAt));

    /// <summary>By name, as gollamas ordered <c>/api/ps</c>; stable for equal names.</summary>
    public static void SortById(List<ListedModel> models) =>
        StableSort(models, static (a, b) => StringComparer.OrdinalIgnoreCase.Compare(a.Id, b.Id));

    // List.Sort is not stable; ties keep their order by comparing positions. Sorting positions
    // rather than (entry, position) pairs through LINQ spares the binary a generic instantiation
    // of each LINQ operator over a value type (about 30 KB of native code).
    private static void StableSort(List<ListedModel> models, Comparison<ListedModel> compare)
    {
        var entries = models.ToArray();
        var order = new int[entries.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (x, y) =>
        {
            var byKey = compare(entries[x], entries[y]);
            return byKey != 0 ? byKey : x.CompareTo(y);
        });
        models.Clear();
        foreach (var i in order)
        {
            models.Add(entries[i]);
        }
    }

    // An entry without a readable time sorts last.
    private static DateTimeOffset ModifiedAt(JsonElement entry) =>
        ModelList.TryReadModifiedAt(entry, out var time) ? time : DateTimeOffset.MinValue;
}
