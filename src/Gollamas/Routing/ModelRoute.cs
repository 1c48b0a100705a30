using System.Text;
using System.Text.Json;
using Gollamas.Backends;
using Gollamas.Json;

namespace Gollamas.Routing;

/// <summary>One routed model: its configured name, the servers that serve it, its aliases.</summary>
internal sealed class ModelRoute
{
    public ModelRoute(string name, ModelName parsed, IReadOnlyList<Backend> backends, IReadOnlyList<string> aliases)
    {
        Name = name;
        Canonical = parsed.Canonical;
        Namespace = parsed.Namespace;
        Backends = backends;
        Aliases = aliases;
        NameAsJsonString = EncodeJsonString(name);
    }

    /// <summary>The name as the operator configured it; what an aliased request is rewritten to.</summary>
    public string Name { get; }

    /// <summary><c>host/namespace/model:tag</c>, compared case-insensitively.</summary>
    public string Canonical { get; }

    public string Namespace { get; }

    /// <summary>Servers for this model in priority order; never empty.</summary>
    public IReadOnlyList<Backend> Backends { get; }

    /// <summary>Alias names as configured.</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary><see cref="Name"/> as a UTF-8 JSON string token, quotes included, for splicing.</summary>
    public ReadOnlyMemory<byte> NameAsJsonString { get; }

    /// <summary>Whether <paramref name="backend"/> is one of this model's servers.</summary>
    public bool IsServedBy(Backend backend)
    {
        foreach (var candidate in Backends)
        {
            if (ReferenceEquals(candidate, backend))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] EncodeJsonString(string value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            writer.WriteStringValue(value);
        }

        return buffer.ToArray();
    }

    public override string ToString() => Name;

    internal static string Describe(ModelRoute route)
    {
        var text = new StringBuilder(route.Name);
        text.Append(" -> ");
        for (var i = 0; i < route.Backends.Count; i++)
        {
            text.Append(i == 0 ? string.Empty : ", ").Append(route.Backends[i].DisplayName);
        }

        return text.ToString();
    }
}
