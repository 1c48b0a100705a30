namespace Gollamas.Backends;

/// <summary>Settings every upstream connection shares.</summary>
internal sealed record BackendSettings
{
    /// <summary>How long a TCP (and TLS) connect may take before the server counts as unreachable.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Failed probes or requests in a row after which the server counts as down.</summary>
    public int FailuresBeforeDown { get; init; } = 3;

    /// <summary>Most requests in flight to the server; 0 means no limit.</summary>
    public int ConcurrencyLimit { get; init; }

    /// <summary>Requests that may wait for a slot when every one is taken.</summary>
    public int QueueLength { get; init; } = 64;

    /// <summary>How long an unused keep-alive connection is kept for the next request.</summary>
    public TimeSpan PooledConnectionIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
