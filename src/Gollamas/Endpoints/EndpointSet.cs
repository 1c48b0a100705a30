namespace Gollamas.Endpoints;

/// <summary>The endpoint objects the rows of the endpoint table hand requests to, built once at start-up.</summary>
internal sealed class EndpointSet(ModelEndpoints models, ListEndpoints lists, VersionEndpoint version, ProbeEndpoints probes, MetricsEndpoint metrics, StatusEndpoint status, AdminEndpoints admin)
{
    public StatusEndpoint Status { get; } = status;

    public AdminEndpoints Admin { get; } = admin;

    public ModelEndpoints Models { get; } = models;

    public ListEndpoints Lists { get; } = lists;

    public VersionEndpoint Version { get; } = version;

    public ProbeEndpoints Probes { get; } = probes;

    public MetricsEndpoint Metrics { get; } = metrics;
}
