namespace Gollamas.Config;

/// <summary>
/// Everything the command line and environment supplied, still unvalidated. List entries are
/// already split: one <see cref="ConfigEntry"/> per <c>a=b</c> item, in declaration order.
/// </summary>
internal sealed record ConfigInput(
    ConfigEntry Listen,
    ConfigEntry Level,
    IReadOnlyList<ConfigEntry> Proxies,
    IReadOnlyList<ConfigEntry> Connections,
    IReadOnlyList<ConfigEntry> Aliases,
    ConfigEntry ListAliases)
{
    /// <summary>Extra CORS origins, one entry per origin.</summary>
    public IReadOnlyList<ConfigEntry> Origins { get; init; } = [];

    // Null below means "not given": the default of HealthOptions or ConcurrencyOptions applies.

    /// <summary>Time between health probes of one connection, as a duration.</summary>
    public ConfigEntry? HealthInterval { get; init; }

    /// <summary>How long one health probe may take, as a duration.</summary>
    public ConfigEntry? HealthTimeout { get; init; }

    /// <summary>Failures in a row after which a connection counts as down.</summary>
    public ConfigEntry? HealthFailures { get; init; }

    /// <summary>Concurrency limits, one entry per <c>N</c> or <c>ID_OR_URL=N</c> item.</summary>
    public IReadOnlyList<ConfigEntry> MaxConcurrency { get; init; } = [];

    /// <summary>Requests that may wait for a slot on one connection.</summary>
    public ConfigEntry? QueueLength { get; init; }

    /// <summary>How long a request may wait for a slot, as a duration.</summary>
    public ConfigEntry? QueueTimeout { get; init; }

    /// <summary>Whether models loaded on a connection but not configured are routed, as a boolean word.</summary>
    public ConfigEntry? AllowRunning { get; init; }
}
