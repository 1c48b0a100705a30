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
    private long _wentDown;
    private long _cameUp;
    private ConcurrentDictionary<string, byte> _loaded = NewLoadedSet();
    private int _draining;
    private ProbeReport? _lastProbe;
    private FailureReport? _lastFailure;
    private LoadedModel[] _loadedModels = [];

    // The cooldown after requests that failed fast: how many in a row, and until when (a
    // TimeProvider timestamp) the route choice passes the server over.
    private int _requestFailuresInRow;
    private long _coolingUntil;

    /// <summary>The first cooldown; each failure in a row after it doubles it, up to <see cref="MaxCooldown"/>.</summary>
    public static readonly TimeSpan FirstCooldown = TimeSpan.FromSeconds(1);

    /// <summary>The longest cooldown.</summary>
    public static readonly TimeSpan MaxCooldown = TimeSpan.FromSeconds(30);

    public ConnectionHealth(int failuresBeforeDown)
    {
        _failuresBeforeDown = Math.Max(1, failuresBeforeDown);
    }

    public bool IsDown => Volatile.Read(ref _down) != 0;

    /// <summary>
    /// Whether an operator drained the connection (<c>POST /gollamas/connections/{id}/drain</c>):
    /// it takes no new request, and the route choice passes it over as if it were down, while
    /// the requests it has finish. It is still probed. Kept with the connection, so a reload
    /// that keeps the connection keeps it drained.
    /// </summary>
    public bool IsDraining => Volatile.Read(ref _draining) != 0;

    /// <summary>Whether the route choice may send it a request: neither marked down nor drained.</summary>
    public bool IsAvailable => Volatile.Read(ref _down) == 0 && Volatile.Read(ref _draining) == 0;

    /// <summary>Drains (true) or resumes (false) the connection; whether that changed anything.</summary>
    public bool SetDraining(bool draining) => Interlocked.Exchange(ref _draining, draining ? 1 : 0) != (draining ? 1 : 0);

    /// <summary>The last probe: when it ended and the server's version if it answered one; null before the first.</summary>
    public ProbeReport? LastProbe => Volatile.Read(ref _lastProbe);

    /// <summary>The last failure seen (a probe's or a request's), in words of ours, and when; null: none yet.</summary>
    public FailureReport? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>The models the server's last /api/ps listed, with their size and expiry.</summary>
    public IReadOnlyList<LoadedModel> LoadedModels => Volatile.Read(ref _loadedModels);

    /// <summary>A probe ended at <paramref name="at"/>; <paramref name="version"/>: what /api/version said, null if unknown.</summary>
    public void RecordProbe(DateTimeOffset at, string? version, bool answered)
    {
        var before = Volatile.Read(ref _lastProbe);
        Volatile.Write(ref _lastProbe, new ProbeReport(at, answered, version ?? before?.Version));
    }

    /// <summary>A failure described in <paramref name="reason"/> (our sentence) at <paramref name="at"/>.</summary>
    public void RecordFailureReason(DateTimeOffset at, string reason) => Volatile.Write(ref _lastFailure, new FailureReport(at, reason));

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
    public bool IsServing => Volatile.Read(ref _answered) != 0 && IsAvailable;

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

        if (Volatile.Read(ref _down) != 0 && Interlocked.Exchange(ref _down, 0) != 0)
        {
            Interlocked.Increment(ref _cameUp);
            return true;
        }

        return false;
    }

    /// <summary>Records a failure; true when this one marked the server down.</summary>
    public bool RecordFailure()
    {
        Volatile.Write(ref _checked, 1);
        if (Interlocked.Increment(ref _consecutiveFailures) >= Volatile.Read(ref _failuresBeforeDown)
            && Interlocked.Exchange(ref _down, 1) == 0)
        {
            Interlocked.Increment(ref _wentDown);
            return true;
        }

        return false;
    }

    /// <summary>Times the server was marked down (for /metrics).</summary>
    public long WentDown => Volatile.Read(ref _wentDown);

    /// <summary>Times it came back up after being marked down (for /metrics).</summary>
    public long CameUp => Volatile.Read(ref _cameUp);

    /// <summary>
    /// Whether the route choice passes the server over at <paramref name="now"/> (a timestamp of
    /// the clock <see cref="RecordRequestFailure"/> was given): a request failed there fast (no
    /// connection, no answer, 5xx or 429) and none has succeeded since. A server answering 503
    /// at once looks idle to a count of requests in flight; this keeps traffic off it for a
    /// while that grows as it keeps failing, while probes (which Ollama answers when busy) do not
    /// end it. The choice still takes it when every other route is down or cooling too.
    /// </summary>
    public bool IsCooling(long now) => Volatile.Read(ref _coolingUntil) is var until and not 0 && now < until;

    /// <summary>A request failed there at <paramref name="now"/>: cools the server for 1 s, 2 s, 4 s ... up to 30 s.</summary>
    public void RecordRequestFailure(long now, long ticksPerSecond)
    {
        var inRow = Interlocked.Increment(ref _requestFailuresInRow);
        var seconds = Math.Min(FirstCooldown.TotalSeconds * Math.Pow(2, Math.Min(inRow - 1, 16)), MaxCooldown.TotalSeconds);
        Volatile.Write(ref _coolingUntil, now + (long)(seconds * ticksPerSecond));
    }

    /// <summary>A request succeeded there: no cooldown, and the next failure starts from the first.</summary>
    public void RecordRequestSuccess()
    {
        if (Volatile.Read(ref _requestFailuresInRow) != 0)
        {
            Volatile.Write(ref _requestFailuresInRow, 0);
            Volatile.Write(ref _coolingUntil, 0);
        }
    }

    /// <summary>Whether the model (canonical name) is loaded on this server, as last seen.</summary>
    public bool IsLoaded(string canonicalModel) => _loaded.ContainsKey(canonicalModel);

    /// <summary>How many models are loaded on this server, as last seen.</summary>
    public int LoadedCount => _loaded.Count;

    /// <summary>A request for the model completed there: it is loaded now.</summary>
    public void MarkLoaded(string canonicalModel) => _loaded.TryAdd(canonicalModel, 0);

    /// <summary>Replaces the loaded set with what the server's /api/ps just listed, kept whole for the status.</summary>
    public void SetLoaded(IEnumerable<string> canonicalModels, LoadedModel[] listed)
    {
        Volatile.Write(ref _loadedModels, listed);
        SetLoaded(canonicalModels);
    }

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

/// <summary>One probe's end: when, whether the server answered it, and its version as last known.</summary>
internal sealed record ProbeReport(DateTimeOffset At, bool Answered, string? Version);

/// <summary>A failure of a connection in words of ours (never a runtime's message), and when.</summary>
internal sealed record FailureReport(DateTimeOffset At, string Reason);

/// <summary>A model the server's /api/ps listed: its name as listed, its size in bytes and when it expires, as the server said (RFC 3339).</summary>
internal sealed record LoadedModel(string Name, long? Size, string? ExpiresAt);
