using System.Text;
using System.Text.Json;
using Gollamas.Bodies;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Json;

namespace Gollamas.Routing;

/// <summary>One routed model: its configured name, the servers that serve it, its aliases.</summary>
internal sealed class ModelRoute
{
    /// <summary>Routes beyond this many are never chosen (a bit each in the tried-set of a request).</summary>
    public const int MaxRoutes = 64;

    private int _rotation;

    public ModelRoute(string name, ModelName parsed, IReadOnlyList<Connection> connections, IReadOnlyList<string> aliases, RequestDefaults defaults)
    {
        Defaults = defaults;
        Name = name;
        Canonical = parsed.Canonical;
        Namespace = parsed.Namespace;
        Connections = connections;
        Aliases = aliases;
        NameAsJsonString = EncodeJsonString(name);
        NameUtf8 = Encoding.UTF8.GetBytes(name);
    }

    /// <summary>The name as the operator configured it; what an aliased request is rewritten to.</summary>
    public string Name { get; }

    /// <summary><c>host/namespace/model:tag</c>, compared case-insensitively.</summary>
    public string Canonical { get; }

    public string Namespace { get; }

    /// <summary>Servers for this model in priority order; never empty.</summary>
    public IReadOnlyList<Connection> Connections { get; }

    /// <summary>
    /// Whether the model is not configured but routed because a connection runs it
    /// (<c>--allow-running</c>): its name then comes from a client, so metrics bound it.
    /// </summary>
    public bool IsRunning { get; init; }

    /// <summary>
    /// Whether the model is not configured but routed because discovering connections list it
    /// (<c>--discover</c>): its connections are those, in declaration order.
    /// </summary>
    public bool IsDiscovered { get; init; }

    /// <summary>The snapshot's weights and parallel slots of the servers, for the route choice.</summary>
    public RoutingOptions Routing { get; init; } = s_defaultRouting;

    private static readonly RoutingOptions s_defaultRouting = new();

    /// <summary>How fast <paramref name="connection"/>'s server is next to the others (--weight).</summary>
    public double WeightOf(Connection connection) =>
        (Routing.WeightThousandths.Count > 0 && Routing.WeightThousandths.TryGetValue(connection.Id, out var weight) ? weight : Routing.DefaultWeightThousandths) / 1000d;

    /// <summary>How many requests of one model <paramref name="connection"/>'s server serves at once (--num-parallel).</summary>
    public int SlotsOf(Connection connection) =>
        Routing.NumParallel.Count > 0 && Routing.NumParallel.TryGetValue(connection.Id, out var slots) ? slots : Routing.DefaultNumParallel;

    /// <summary>Alias names as configured.</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>
    /// The request rules of this model (keep_alive, num_ctx and any other field set when absent,
    /// forced or stripped) the proxy applies to its generate, chat, embed and embeddings requests.
    /// </summary>
    public RequestDefaults Defaults { get; }

    /// <summary><see cref="Name"/> as a UTF-8 JSON string token, quotes included, for splicing.</summary>
    public ReadOnlyMemory<byte> NameAsJsonString { get; }

    /// <summary><see cref="Name"/> in UTF-8, for splicing into a form field.</summary>
    public ReadOnlyMemory<byte> NameUtf8 { get; }

    /// <summary>How many routes a request may try: each at most once.</summary>
    public int RouteCount => Math.Min(Connections.Count, MaxRoutes);

    /// <summary>A per-request starting point, so equal routes take turns.</summary>
    public int NextRotation() => Interlocked.Increment(ref _rotation) & int.MaxValue;

    /// <summary>Routes whose server is neither marked down nor drained: how many attempts a request may make.</summary>
    public int UpRouteCount()
    {
        var up = 0;
        for (var i = 0; i < RouteCount; i++)
        {
            if (Connections[i].Health.IsAvailable)
            {
                up++;
            }
        }

        return up;
    }

    /// <summary>Whether <paramref name="connection"/> is one of this model's servers.</summary>
    public bool IsServedBy(Connection connection)
    {
        foreach (var candidate in Connections)
        {
            if (ReferenceEquals(candidate, connection))
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
}
