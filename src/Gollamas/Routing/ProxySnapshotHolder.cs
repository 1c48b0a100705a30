using Gollamas.Connections;

namespace Gollamas.Routing;

/// <summary>
/// Holds the current <see cref="ProxySnapshot"/>. A request reads <see cref="Current"/> once, at
/// its start (the dispatcher does), and passes that snapshot down: it never sees half of two
/// configurations, and a swap never changes a request already running.
/// </summary>
/// <remarks>
/// Ownership, as in YARP's model: per process, the holder, the <see cref="ConnectionRegistry"/> and
/// the servers in it (health, gate, pool, requests in flight), mutated only by their own code,
/// by requests' outcomes and by the health monitor; per snapshot, everything in a
/// <see cref="ProxySnapshot"/>, immutable once built; per request, the snapshot it read and what
/// it builds for itself. Only <see cref="Swap"/> changes the current snapshot, and with it the
/// registry: servers a new snapshot names were added as it was built, those it no longer names
/// are retired here, and each server takes the snapshot's settings (its concurrency limit).
/// </remarks>
internal sealed class ProxySnapshotHolder
{
    private readonly ConnectionRegistry _registry;
    private readonly Lock _swapping = new();
    private ProxySnapshot _current;

    public ProxySnapshotHolder(ProxySnapshot initial, ConnectionRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(registry);
        _current = initial;
        _registry = registry;
    }

    /// <summary>Raised after each swap, with the new snapshot (the preloader follows it).</summary>
    public event Action<ProxySnapshot>? Swapped;

    public ProxySnapshot Current => Volatile.Read(ref _current);

    /// <summary>
    /// Makes <paramref name="next"/> (built by <see cref="ProxySnapshot.Build"/> on the same
    /// registry) the snapshot of every request from now on. Requests running keep theirs; a
    /// server no longer named finishes its requests in flight, then closes.
    /// </summary>
    public void Swap(ProxySnapshot next)
    {
        ArgumentNullException.ThrowIfNull(next);
        lock (_swapping)
        {
            for (var i = 0; i < next.Connections.Count; i++)
            {
                next.Connections[i].Apply(next.ConnectionSettings[i]);
            }

            Volatile.Write(ref _current, next);
            _registry.RetainOnly(next.Connections);
        }

        Swapped?.Invoke(next);
    }
}
