namespace Gollamas.Endpoints;

/// <summary>The endpoint objects the rows of the endpoint table hand requests to, built once at start-up.</summary>
internal sealed class EndpointSet(
    ModelEndpoints models,
    ListEndpoints lists,
    VersionEndpoint version,
    ProbeEndpoints probes,
    MetricsEndpoint metrics,
    CloudStatusEndpoint cloudStatus,
    OneServerEndpoint oneServer,
    FleetStatusEndpoint fleetStatus,
    AdminEndpoints admin)
{
    public ModelEndpoints Models { get; } = models;

    public ListEndpoints Lists { get; } = lists;

    public VersionEndpoint Version { get; } = version;

    public ProbeEndpoints Probes { get; } = probes;

    public MetricsEndpoint Metrics { get; } = metrics;

    /// <summary>Ollama's <c>/api/status</c>, merged from every server.</summary>
    public CloudStatusEndpoint CloudStatus { get; } = cloudStatus;

    public OneServerEndpoint OneServer { get; } = oneServer;

    /// <summary>The proxy's own <c>/gollamas/status</c>.</summary>
    public FleetStatusEndpoint FleetStatus { get; } = fleetStatus;

    public AdminEndpoints Admin { get; } = admin;
}
