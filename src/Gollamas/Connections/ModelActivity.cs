namespace Gollamas.Connections;

/// <summary>
/// One model's live load on one connection, as the route choice reads it: the generations of
/// that model the proxy has sent there and not yet seen end (waiting at the proxy's gate or at
/// the server's, or running), whether the first of them found the model not loaded there (it is
/// loading, until one of them ends or the model shows as loaded), and the route choice's last
/// estimate of a new one's time to first token there (for <c>/metrics</c>). Long-lived with its
/// <see cref="Connection"/>, which counts its models loading; updated without locks.
/// </summary>
internal sealed class ModelActivity
{
    private readonly Connection _owner;
    private int _generations;
    private int _loading;
    private long _estimateMicroseconds = -1;

    /// <summary>
    /// The name this entry was last found by (<see cref="Connection.Activity"/>): the next look-up
    /// with the same string, as each request of a route makes, is a reference comparison. Any
    /// value it holds is a name of this entry, so a race between two writers is harmless.
    /// </summary>
    public string? FoundBy { get; set; }

    public ModelActivity(Connection owner)
    {
        _owner = owner;
    }

    /// <summary>Generations of the model in flight there through the proxy.</summary>
    public int Generations => Volatile.Read(ref _generations);

    /// <summary>Whether the model is loading there for the generations in flight.</summary>
    public bool IsLoading => Volatile.Read(ref _loading) != 0;

    /// <summary>The last estimate of a new request's time to first token there, in seconds; null before the first.</summary>
    public double? LastEstimateSeconds => Volatile.Read(ref _estimateMicroseconds) is var us and >= 0 ? us / 1e6 : null;

    /// <summary>
    /// A generation was sent there; <see cref="End"/> follows it, whatever its outcome. The first
    /// in flight for a model not <paramref name="loaded"/> there starts a load.
    /// </summary>
    public void Start(bool loaded = true)
    {
        if (Interlocked.Increment(ref _generations) == 1 && !loaded && Interlocked.Exchange(ref _loading, 1) == 0)
        {
            _owner.CountLoading(+1);
        }
    }

    /// <summary>A generation ended: by then any load it waited for is over.</summary>
    public void End()
    {
        Interlocked.Decrement(ref _generations);
        Loaded();
    }

    /// <summary>The model is loaded there (seen in <c>/api/ps</c> or in an answer): no load is pending.</summary>
    public void Loaded()
    {
        if (Volatile.Read(ref _loading) != 0 && Interlocked.Exchange(ref _loading, 0) == 1)
        {
            _owner.CountLoading(-1);
        }
    }

    /// <summary>The last minute's requests of the model there, for the status.</summary>
    public RecentRates Recent { get; } = new();

    public void RecordEstimate(double seconds) => Volatile.Write(ref _estimateMicroseconds, (long)(Math.Min(seconds, 1e6) * 1e6));
}
