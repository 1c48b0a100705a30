using System.Collections.Concurrent;

namespace Gollamas.Connections;

/// <summary>
/// What the proxy knows of one server's state: up or down (after N failed probes or requests in
/// a row; back up on the first success), whether it has answered at all yet, and which models it
/// has loaded (from its /api/ps, refreshed in the background, and from the requests that
/// completed there). Lives with the <see cref="Connection"/>, outside any routing snapshot.
/// </summary>
internal sealed class ConnectionHealth
{
    private int _failuresBeforeDown;
    private int _consecutiveFailures;
    private int _down;
    private int _answered;
    private int _checked;
    private ConcurrentDictionary<string, byte> _loaded = NewLoadedSet();

    public ConnectionHealth(int failuresBeforeDown)
    {
        _failuresBeforeDown = Math.Max(1, failuresBeforeDown);
    }

    public bool IsDown => Volatile.Read(ref _down) != 0;

    /// <summary>
    /// Failures in a row that mark the server down; a new snapshot may change it, for the
    /// failures after (a server already down stays down until a success).
    /// </summary>
    public int FailuresBeforeDown
    {
        get => Volatile.Read(ref _failuresBeforeDown);
        set => Volatile.Write(ref _failuresBeforeDown, Math.Max(1, value));
    }

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>
    /// Whether the server is known to serve: it has answered a probe or a request and is not
    /// marked down. A server not heard from yet is still tried by requests (it may only be slow
    /// to start), but it does not make the proxy ready.
    /// </summary>
    public bool IsServing => Volatile.Read(ref _answered) != 0 && !IsDown;

    /// <summary>Whether a probe or a request has found anything out about the server yet.</summary>
    public bool IsChecked => Volatile.Read(ref _checked) != 0;

    /// <summary>Records a success; true when this brought the server back up.</summary>
    public bool RecordSuccess()
    {
        // Read before written: once set, these cache lines stay shared between the cores
        // recording requests.
        if (Volatile.Read(ref _answered) == 0)
        {
            Volatile.Write(ref _answered, 1);
            Volatile.Write(ref _checked, 1);
        }

        if (Volatile.Read(ref _consecutiveFailures) != 0)
        {
            Volatile.Write(ref _consecutiveFailures, 0);
        }

        return Volatile.Read(ref _down) != 0 && Interlocked.Exchange(ref _down, 0) != 0;
    }

    /// <summary>Records a failure; true when this one marked the server down.</summary>
    public bool RecordFailure()
    {
        Volatile.Write(ref _checked, 1);
        return Interlocked.Increment(ref _consecutiveFailures) >= Volatile.Read(ref _failuresBeforeDown)
            && Interlocked.Exchange(ref _down, 1) == 0;
    }

    /// <summary>Whether the model (canonical name) is loaded on this server, as last seen.</summary>
    public bool IsLoaded(string canonicalModel) => _loaded.ContainsKey(canonicalModel);

    /// <summary>A request for the model completed there: it is loaded now.</summary>
    public void MarkLoaded(string canonicalModel) => _loaded.TryAdd(canonicalModel, 0);

    /// <summary>Replaces the loaded set with what the server's /api/ps just listed.</summary>
    public void SetLoaded(IEnumerable<string> canonicalModels)
    {
        var loaded = NewLoadedSet();
        foreach (var model in canonicalModels)
        {
            loaded.TryAdd(model, 0);
        }

        Volatile.Write(ref _loaded, loaded);
    }

    private static ConcurrentDictionary<string, byte> NewLoadedSet() => new(StringComparer.OrdinalIgnoreCase);
}
