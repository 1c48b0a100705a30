namespace Gollamas.Connections;

/// <summary>
/// One model's live load on one connection, as the route choice reads it: the generations of
/// that model the proxy has sent there and not yet seen end (waiting at the proxy's gate or at
/// the server's, or running), and the route choice's last estimate of a new one's time to first
/// token there (for <c>/metrics</c>). Long-lived with its <see cref="Connection"/>; updated
/// without locks.
/// </summary>
internal sealed class ModelActivity
{
    private int _generations;

    /// <summary>
    /// The name this entry was last found by (<see cref="Connection.Activity"/>): the next look-up
    /// with the same string, as each request of a route makes, is a reference comparison. Any
    /// value it holds is a name of this entry, so a race between two writers is harmless.
    /// </summary>
    public string? FoundBy { get; set; }
    private long _estimateMicroseconds = -1;

    /// <summary>Generations of the model in flight there through the proxy.</summary>
    public int Generations => Volatile.Read(ref _generations);

    /// <summary>The last estimate of a new request's time to first token there, in seconds; null before the first.</summary>
    public double? LastEstimateSeconds => Volatile.Read(ref _estimateMicroseconds) is var us and >= 0 ? us / 1e6 : null;

    /// <summary>A generation was sent there; <see cref="End"/> follows it, whatever its outcome.</summary>
    public void Start() => Interlocked.Increment(ref _generations);

    public void End() => Interlocked.Decrement(ref _generations);

    public void RecordEstimate(double seconds) => Volatile.Write(ref _estimateMicroseconds, (long)(Math.Min(seconds, 1e6) * 1e6));
}
