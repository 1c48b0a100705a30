using System.Collections.Frozen;
using Gollamas.Bodies;
using Gollamas.Config;
using Gollamas.Connections;

namespace Gollamas.Routing;

/// <summary>
/// One immutable snapshot of the routing configuration: every accepted spelling of every model
/// and alias, precomputed, so a request costs one case-insensitive probe without allocating.
/// A new configuration builds a new table, part of a new <see cref="ProxySnapshot"/>.
/// </summary>
internal sealed class RouteTable
{
    private const string LocalSuffix = ":local";

    private readonly FrozenDictionary<string, RouteMatch> _bySpelling;
    private readonly FrozenDictionary<string, RouteMatch>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    private RouteTable(IReadOnlyList<ModelRoute> models, Dictionary<string, RouteMatch> bySpelling, bool listAliases, bool allowRunning, IReadOnlyList<Connection> allConnections)
    {
        Models = models;
        ListAliases = listAliases;
        AllowRunning = allowRunning;
        AllConnections = allConnections;
        ServingConnections = models.SelectMany(static m => m.Connections).Distinct().ToArray();
        _bySpelling = bySpelling.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _bySpan = _bySpelling.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Routed models in declaration order.</summary>
    public IReadOnlyList<ModelRoute> Models { get; }

    /// <summary>Every connection that serves at least one model, in declaration order: the ones lists ask.</summary>
    public IReadOnlyList<Connection> ServingConnections { get; }

    /// <summary>Every connection, serving a configured model or not.</summary>
    public IReadOnlyList<Connection> AllConnections { get; }

    /// <summary>
    /// The connections whose own models are routed (--discover), each with its rule, in
    /// declaration order: the ones model discovery reads.
    /// </summary>
    public IReadOnlyList<DiscoveringConnection> Discovery { get; private init; } = [];

    /// <summary>The servers' weights and parallel slots (the running routes take them from here).</summary>
    public RoutingOptions RoutingOptions { get; private init; } = new();

    /// <summary>Whether models that are not configured but loaded on a connection are routed there.</summary>
    public bool AllowRunning { get; }

    /// <summary>Whether aliases are listed as entries of the merged model lists.</summary>
    public bool ListAliases { get; }

    /// <summary>The request settings of models routed because they run: the global ones.</summary>
    public RequestDefaults RunningDefaults { get; private init; } = RequestDefaults.None;

    /// <summary>
    /// Every field a rule of a route names (the running routes' included): what a body scan
    /// records, before it knows the route. <see cref="WatchedFields.None"/> without rules.
    /// </summary>
    public WatchedFields Watched { get; private init; } = WatchedFields.None;

    /// <param name="options">The configuration.</param>
    /// <param name="connections">The server of each of <paramref name="options"/>' connections, in their order.</param>
    public static RouteTable Build(GollamasOptions options, IReadOnlyList<Connection> connections)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connections);
        var byId = connections.ToDictionary(static c => c.Id, StringComparer.Ordinal);

        var bySpelling = new Dictionary<string, RouteMatch>(StringComparer.OrdinalIgnoreCase);
        var byConfiguredName = new Dictionary<string, ModelRoute>(StringComparer.OrdinalIgnoreCase);
        var models = new List<ModelRoute>(options.Models.Count);
        foreach (var model in options.Models)
        {
            if (!ModelName.TryParse(model.Name, out var parsed))
            {
                throw new ArgumentException($"invalid model name '{model.Name}' in validated options", nameof(options));
            }

            var routeConnections = model.ConnectionIds.Select(id => byId[id]).ToArray();
            var aliases = options.Aliases
                .Where(a => string.Equals(a.Model, model.Name, StringComparison.Ordinal))
                .Select(a => a.Alias)
                .ToArray();
            var route = new ModelRoute(model.Name, parsed, routeConnections, aliases, options.Lifecycle.For(model.Name)) { Routing = options.Routing };
            models.Add(route);
            byConfiguredName[model.Name] = route;
            foreach (var spelling in parsed.Spellings())
            {
                bySpelling.TryAdd(spelling, new RouteMatch(route, IsAlias: false));
            }
        }

        // Then the models the discovering connections list and no configured route or alias
        // names (what the operator wrote wins over what a server happens to have): one route per
        // model, to every connection that lists it.
        var byCanonical = models.ToDictionary(static m => m.Canonical, StringComparer.OrdinalIgnoreCase);
        var aliasTargets = AliasTargets(options.Aliases);
        var discovering = new List<Connection>(options.Discovery.Count);
        foreach (var found in Discovered(options.Discovery, byId, discovering))
        {
            var canonical = found.Name.Canonical;
            if (byCanonical.ContainsKey(canonical) || aliasTargets.ContainsKey(canonical))
            {
                continue;
            }

            // Named as the first server lists it, in Ollama's short form: what /api/tags shows.
            // Its aliases are those whose target is no configured model but is this one.
            var aliases = options.Aliases
                .Where(a => !byConfiguredName.ContainsKey(a.Model) && ModelName.TryParse(a.Model, out var target)
                    && string.Equals(target.Canonical, canonical, StringComparison.OrdinalIgnoreCase))
                .Select(static a => a.Alias)
                .ToArray();
            var route = new ModelRoute(found.Name.DisplayShortest, found.Name, found.Connections, aliases, options.Lifecycle.For(found.Name)) { IsDiscovered = true, Routing = options.Routing };
            models.Add(route);
            byCanonical.Add(canonical, route);
            foreach (var spelling in found.Name.Spellings())
            {
                bySpelling.TryAdd(spelling, new RouteMatch(route, IsAlias: false));
            }
        }

        // Aliases go in after every model, so a model spelling can never be taken by an alias.
        // An alias of a model no server lists yet is not routed: it is unknown, as the model is.
        foreach (var alias in options.Aliases)
        {
            if (!ModelName.TryParse(alias.Alias, out var parsed))
            {
                throw new ArgumentException($"invalid alias '{alias.Alias}' in validated options", nameof(options));
            }

            if (!byConfiguredName.TryGetValue(alias.Model, out var route)
                && !(ModelName.TryParse(alias.Model, out var target) && byCanonical.TryGetValue(target.Canonical, out route)))
            {
                continue;
            }

            foreach (var spelling in parsed.Spellings())
            {
                bySpelling.TryAdd(spelling, new RouteMatch(route, IsAlias: true));
            }
        }

        return new RouteTable(models, bySpelling, options.ListAliases, options.AllowRunning, connections)
        {
            RoutingOptions = options.Routing,
            Discovery = [.. options.Discovery.Select((rule, i) => new DiscoveringConnection(discovering[i], rule))],
            AliasTargetsByCanonical = aliasTargets,
            RunningDefaults = options.Lifecycle.Global,
            Watched = WatchedFields.Of([options.Lifecycle.Global, .. models.Select(static m => m.Defaults)]),
        };
    }

    /// <summary>
    /// The model a configured alias named <paramref name="name"/> stands for, routed or not yet;
    /// null when no alias has that name. A server's model of that name is not discovered: the
    /// alias keeps it.
    /// </summary>
    public string? AliasTarget(ModelName name) =>
        AliasTargetsByCanonical.TryGetValue(name.Canonical, out var target) ? target : null;

    private FrozenDictionary<string, string> AliasTargetsByCanonical { get; init; } = FrozenDictionary<string, string>.Empty;

    // Every configured alias by its canonical name, with the model it stands for.
    private static FrozenDictionary<string, string> AliasTargets(IReadOnlyList<AliasConfig> aliases)
    {
        var targets = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var alias in aliases)
        {
            if (ModelName.TryParse(alias.Alias, out var parsed))
            {
                targets.TryAdd(parsed.Canonical, alias.Model);
            }
        }

        return targets.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    // The models the discovering connections last listed and their rules admit, by canonical
    // name, first seen first; each with the connections that list it, in declaration order.
    // A connection not read yet lists nothing.
    private static List<DiscoveredModel> Discovered(
        IReadOnlyList<DiscoveryRule> rules, Dictionary<string, Connection> byId, List<Connection> discovering)
    {
        var found = new List<DiscoveredModel>();
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in rules)
        {
            var connection = byId[rule.ConnectionId];
            discovering.Add(connection);
            foreach (var model in connection.Listed ?? [])
            {
                if (!rule.Admits(model))
                {
                    continue;
                }

                if (index.TryGetValue(model.Canonical, out var at))
                {
                    var connections = found[at].Connections;
                    if (!connections.Contains(connection))
                    {
                        connections.Add(connection);
                    }
                }
                else
                {
                    index.Add(model.Canonical, found.Count);
                    found.Add(new DiscoveredModel(model, [connection]));
                }
            }
        }

        return found;
    }

    /// <summary>
    /// Resolves a model name as a client sent it. The exact spelling is tried first (one probe,
    /// no allocation); anything else is parsed the way Ollama parses names, which also covers
    /// surrounding white space and the <c>:local</c> suffix.
    /// </summary>
    public bool TryResolve(ReadOnlySpan<char> requested, out RouteMatch match)
    {
        if (_bySpan.TryGetValue(requested, out match))
        {
            return true;
        }

        // What Ollama strips before parsing (white space, a ":local" suffix) costs a second probe,
        // not a parse: both still resolve without allocating.
        var stripped = requested.Trim();
        if (stripped.EndsWith(LocalSuffix, StringComparison.OrdinalIgnoreCase))
        {
            stripped = stripped[..^LocalSuffix.Length];
        }

        if (stripped.Length != requested.Length && _bySpan.TryGetValue(stripped, out match))
        {
            return true;
        }

        if (ModelName.TryParse(requested, out var parsed) && _bySpelling.TryGetValue(parsed.Canonical, out match))
        {
            return true;
        }

        match = default;
        return false;
    }

    /// <summary>
    /// With running-model routing on, a route for a model that is not configured but is loaded
    /// on one or more connections (as their /api/ps last said, or a request there completed):
    /// those connections, in declaration order, under the model's canonical short name. Built
    /// per request; this is not the common path.
    /// </summary>
    public bool TryResolveRunning(ReadOnlySpan<char> requested, out ModelRoute route)
    {
        route = null!;
        if (!AllowRunning || !ModelName.TryParse(requested, out var parsed))
        {
            return false;
        }

        var running = AllConnections.Where(c => c.Health.IsLoaded(parsed.Canonical)).ToArray();
        if (running.Length == 0)
        {
            return false;
        }

        // Named canonically (lower case, tag and namespace as /api/ps shows them), never in the
        // client's spelling: "RUN", "Run:LATEST" and "registry.ollama.ai/library/run" are one
        // model to Ollama, so one name in logs, messages and metric labels.
        route = new ModelRoute(parsed.DisplayShortest.ToLowerInvariant(), parsed, running, [], RunningDefaults) { IsRunning = true, Routing = RoutingOptions };
        return true;
    }

    /// <summary>
    /// Finds the configured model an upstream list entry names (never an alias: aliases exist
    /// only in the proxy).
    /// </summary>
    public bool TryResolveListedModel(string listedName, out ModelRoute route)
    {
        if (TryResolve(listedName, out var match) && !match.IsAlias)
        {
            route = match.Route;
            return true;
        }

        route = null!;
        return false;
    }

    // A model the discovering connections list, as first listed, with the connections that list it.
    private sealed record DiscoveredModel(ModelName Name, List<Connection> Connections);
}
