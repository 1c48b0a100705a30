namespace Gollamas.Connections;

/// <summary>
/// The settings of one connection: its pool's timeouts, when it counts as down, its concurrency
/// limit and queue. A new snapshot may replace them (<see cref="Connection.Apply"/>).
/// </summary>
internal sealed record ConnectionSettings
{
    /// <summary>How long a TCP (and TLS) connect may take before the server counts as unreachable.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Failed probes or requests in a row after which the server counts as down.</summary>
    public int FailuresBeforeDown { get; init; } = 3;

    /// <summary>Most requests in flight to the server; 0 means no limit.</summary>
    public int ConcurrencyLimit { get; init; }

    /// <summary>Requests that may wait for a slot when every one is taken.</summary>
    public int QueueLength { get; init; } = 64;

    /// <summary>How long an unused keep-alive channel is kept for the next request.</summary>
    public TimeSpan PooledConnectionIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
