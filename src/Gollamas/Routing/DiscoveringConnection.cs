using Gollamas.Config;
using Gollamas.Connections;

namespace Gollamas.Routing;

/// <summary>A connection whose own models are routed (--discover), with its rule.</summary>
internal sealed record DiscoveringConnection(Connection Connection, DiscoveryRule Rule);
