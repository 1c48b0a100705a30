namespace Gollamas.Endpoints;

/// <summary>
/// Which groups of rows of the endpoint table an address serves: the proxy's own address serves
/// the API, and /metrics and the admin routes unless they were given their own address
/// (<c>--metrics-listen</c>, <c>--admin-listen</c>), which then serves those only. A row outside
/// every group its address serves is an unknown path there.
/// </summary>
[Flags]
internal enum EndpointGroups
{
    /// <summary>No group: on <see cref="ListenerMarks"/>, the proxy's own address.</summary>
    None = 0,

    /// <summary>Ollama's APIs and the probes: the proxy's own address only.</summary>
    Api = 1,

    /// <summary>GET /metrics.</summary>
    Metrics = 2,

    /// <summary>The status and the admin actions under /gollamas/.</summary>
    Admin = 4,
}
