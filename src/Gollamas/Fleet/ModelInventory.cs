using System.Text.Json;
using Gollamas.Config;
using Gollamas.Json;

namespace Gollamas.Fleet;

/// <summary>
/// The models one server has (its <c>/api/tags</c>), compared as Ollama compares names
/// (<see cref="ModelName"/>: <c>llama3.2</c>, <c>llama3.2:latest</c> and
/// <c>registry.ollama.ai/library/llama3.2:latest</c> are one model), and, for a model it lacks,
/// the names it has that come closest.
/// </summary>
/// <remarks>
/// The names come from the server: foreign text. Only names Ollama itself would accept are kept
/// (letters, digits and <c>_-.:/</c>, bounded), and they are shown in Ollama's own short form, so
/// nothing a server sends reaches a log line or the terminal as it was sent.
/// </remarks>
internal sealed class ModelInventory
{
    private readonly List<ModelName> _models;
    private readonly HashSet<string> _canonical;

    private ModelInventory(List<ModelName> models)
    {
        _models = models;
        _canonical = new HashSet<string>(models.Select(static m => m.Canonical), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>How many models the server listed (those with a name Ollama accepts).</summary>
    public int Count => _models.Count;

    /// <summary>The models the server listed (those with a name Ollama accepts), in its order.</summary>
    public IReadOnlyList<ModelName> Models => _models;

    /// <summary>The models of a <c>{"models":[...]}</c> answer, in its order; an answer that is no such list has none.</summary>
    public static ModelInventory Read(JsonDocument? tags)
    {
        var models = new List<ModelName>();
        foreach (var (_, name) in new ModelList(tags))
        {
            if (ModelName.TryParse(name, out var parsed))
            {
                models.Add(parsed);
            }
        }

        return new ModelInventory(models);
    }

    /// <summary>Whether the server has the model of this canonical name.</summary>
    public bool Has(string canonical) => _canonical.Contains(canonical);

    /// <summary>
    /// Up to <paramref name="count"/> of the server's models closest to <paramref name="wanted"/>,
    /// in Ollama's short form: first those of the same name with another tag (<c>qwen3:8b</c> for
    /// <c>qwen3</c>), then by edit distance; equals in the server's order.
    /// </summary>
    public IReadOnlyList<string> Closest(ModelName wanted, int count)
    {
        var target = wanted.DisplayShortest.ToUpperInvariant();
        return [.. _models
            .Select((model, index) => (Model: model, Index: index))
            .OrderBy(m => SameName(m.Model, wanted) ? 0 : 1)
            .ThenBy(m => EditDistance.Between(m.Model.DisplayShortest.ToUpperInvariant(), target))
            .ThenBy(m => m.Index)
            .Take(count)
            .Select(static m => m.Model.DisplayShortest)];
    }

    /// <summary>
    /// "qwen3:8b, qwen3:30b", "qwen3:8b, qwen3:30b, qwen2.5:7b and 12 more", or "no models":
    /// what a message says the server has instead of <paramref name="wanted"/>.
    /// </summary>
    public string DescribeClosest(ModelName wanted, int count)
    {
        if (_models.Count == 0)
        {
            return "no models";
        }

        var closest = Closest(wanted, count);
        var more = _models.Count - closest.Count;
        return more > 0 ? $"{string.Join(", ", closest)} and {more} more" : string.Join(", ", closest);
    }

    private static bool SameName(ModelName model, ModelName wanted) =>
        model.Model.Equals(wanted.Model, StringComparison.OrdinalIgnoreCase)
        && model.Namespace.Equals(wanted.Namespace, StringComparison.OrdinalIgnoreCase)
        && model.Host.Equals(wanted.Host, StringComparison.OrdinalIgnoreCase);
}
