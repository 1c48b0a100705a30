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

    // Null below means "not given": the default of LimitOptions, SecurityOptions or LogOptions applies.

    /// <summary>Largest request body, as a size (<c>64MiB</c>, <c>500MB</c>, bytes).</summary>
    public ConfigEntry? MaxBodySize { get; init; }

    /// <summary>Directory of the temporary files of large request bodies.</summary>
    public ConfigEntry? BodyTempDir { get; init; }

    /// <summary>How long a client may take to send the request headers, as a duration.</summary>
    public ConfigEntry? HeaderTimeout { get; init; }

    /// <summary>How long connecting to an Ollama server may take, as a duration.</summary>
    public ConfigEntry? ConnectTimeout { get; init; }

    /// <summary>Longest silence from a server, as a duration; <c>0</c> means none.</summary>
    public ConfigEntry? IdleTimeout { get; init; }

    /// <summary>Most client connections at once; <c>0</c> means no limit.</summary>
    public ConfigEntry? MaxConnections { get; init; }

    /// <summary>How long in-flight requests may run on after a stop signal, as a duration.</summary>
    public ConfigEntry? DrainTimeout { get; init; }

    /// <summary>Path of the PEM certificate to listen with HTTPS.</summary>
    public ConfigEntry? TlsCertificate { get; init; }

    /// <summary>Path of the PEM key of <see cref="TlsCertificate"/>.</summary>
    public ConfigEntry? TlsKey { get; init; }

    /// <summary>
    /// API keys, one entry per key, all from one source (the flag replaces the variable), so an
    /// entry's position names it in an error without printing the secret.
    /// </summary>
    public IReadOnlyList<ConfigEntry> ApiKeys { get; init; } = [];

    /// <summary>Host names a loopback listener answers to besides the local ones, one entry per name; <c>*</c> for any.</summary>
    public IReadOnlyList<ConfigEntry> AllowedHosts { get; init; } = [];

    /// <summary>Path of a file of API keys, read by the server.</summary>
    public ConfigEntry? ApiKeysFile { get; init; }

    /// <summary>Whether the client's Authorization and x-api-key headers reach Ollama, as a boolean word.</summary>
    public ConfigEntry? ForwardAuthorization { get; init; }

    /// <summary>Whether each request is logged, as a boolean word.</summary>
    public ConfigEntry? AccessLog { get; init; }

    /// <summary>Log line format: <c>simple</c> or <c>json</c>.</summary>
    public ConfigEntry? LogFormat { get; init; }

    /// <summary>Whether /metrics is served, as a boolean word.</summary>
    public ConfigEntry? Metrics { get; init; }

    /// <summary>A separate HOST:PORT for /metrics.</summary>
    public ConfigEntry? MetricsListen { get; init; }

    // Lifecycle: each entry is VALUE (every model) or MODEL=VALUE (one model or alias).

    /// <summary>keep_alive set when a request has none.</summary>
    public IReadOnlyList<ConfigEntry> KeepAlive { get; init; } = [];

    /// <summary>keep_alive set in every request, replacing the client's.</summary>
    public IReadOnlyList<ConfigEntry> ForceKeepAlive { get; init; } = [];

    /// <summary>options.num_ctx set when a request has none.</summary>
    public IReadOnlyList<ConfigEntry> NumCtx { get; init; } = [];

    /// <summary>options.num_ctx set in every request, replacing the client's.</summary>
    public IReadOnlyList<ConfigEntry> ForceNumCtx { get; init; } = [];

    /// <summary>Models (or aliases) to load at start-up, one entry per model.</summary>
    public IReadOnlyList<ConfigEntry> Preload { get; init; } = [];

    /// <summary>How often preloaded models are loaded again, as a duration; <c>0</c> means never.</summary>
    public ConfigEntry? PingInterval { get; init; }
}
