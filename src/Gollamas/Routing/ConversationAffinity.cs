namespace Gollamas.Routing;

/// <summary>
/// Which connection each recent conversation (a <c>Bodies.ConversationKey</c>) last went to, so
/// that its next turn can go there again and find its earlier turns in that server's prompt cache.
/// </summary>
/// <remarks>
/// <para>
/// A bounded least-recently-used table: entries live in one array allocated up front, chained
/// from the most to the least recently used, with a <see cref="Dictionary{TKey, TValue}"/> of
/// the same capacity as the index, so a call is O(1), takes one short lock and allocates nothing.
/// A look-up that finds an entry is a use of it. An entry unused for longer than the idle time
/// counts as absent; such entries are the least recently used ones, so they go first when room
/// is needed, and each call also drops a few of them from the end of the chain.
/// </para>
/// <para>
/// The table lives for the process, not for a snapshot: its connection ids are hints, and one may
/// name a connection a reload removed; the caller ignores an id it no longer routes to.
/// </para>
/// </remarks>
internal sealed class ConversationAffinity
{
    /// <summary>The number of conversations remembered unless the creator asks for another.</summary>
    public const int DefaultCapacity = 16_384;

    /// <summary>How long a conversation stays remembered without a turn, unless the creator asks for another.</summary>
    public static readonly TimeSpan DefaultIdleTime = TimeSpan.FromMinutes(30);

    // Expired entries dropped per call at most, beyond the ones a call needs: the chain's end is
    // cleaned as the table is used, and no call does more than a fixed amount of work.
    private const int ExpiredDroppedPerCall = 2;

    private const int None = -1;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly long _idleTicks;
    private readonly Entry[] _entries;
    private readonly Dictionary<ulong, int> _index;

    // The chain: _newest is the most recently used entry, _oldest the least; free slots are chained by Next from _free.
    private int _newest = None;
    private int _oldest = None;
    private int _free;

    /// <param name="time">The clock of the idle time.</param>
    /// <param name="capacity">The most conversations remembered, at least 1.</param>
    /// <param name="idleTime">How long an entry counts after its last use; <see cref="DefaultIdleTime"/> when null.</param>
    public ConversationAffinity(TimeProvider time, int capacity = DefaultCapacity, TimeSpan? idleTime = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var idle = idleTime ?? DefaultIdleTime;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idle, TimeSpan.Zero);

        _time = time;
        _idleTicks = (long)Math.Min(idle.TotalSeconds * time.TimestampFrequency, long.MaxValue);
        _entries = new Entry[capacity];
        _index = new Dictionary<ulong, int>(capacity);
        for (var i = 0; i < capacity; i++)
        {
            _entries[i].Next = i + 1 < capacity ? i + 1 : None;
        }

        _free = 0;
    }

    /// <summary>The most conversations remembered.</summary>
    public int Capacity => _entries.Length;

    /// <summary>How many entries the table holds, expired ones not yet dropped included.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    /// <summary>
    /// The connection <paramref name="key"/>'s conversation last went to, when it was used within
    /// the idle time; the look-up counts as a use.
    /// </summary>
    public bool TryGet(ulong key, out string connectionId)
    {
        lock (_lock)
        {
            // Read under the lock, so that the chain's order is the order of the last uses and
            // expired entries are always at its end.
            var now = _time.GetTimestamp();
            DropExpired(now);
            if (_index.TryGetValue(key, out var slot))
            {
                ref var entry = ref _entries[slot];
                if (!IsExpired(entry.LastUse, now))
                {
                    entry.LastUse = now;
                    MoveToNewest(slot);
                    connectionId = entry.ConnectionId!;
                    return true;
                }

                Remove(slot);
            }
        }

        connectionId = "";
        return false;
    }

    /// <summary>
    /// Remembers that <paramref name="key"/>'s conversation went to <paramref name="connectionId"/>
    /// now, making room by dropping the least recently used entry when the table is full.
    /// </summary>
    public void Remember(ulong key, string connectionId)
    {
        ArgumentNullException.ThrowIfNull(connectionId);
        lock (_lock)
        {
            // Read under the lock, so that the chain's order is the order of the last uses and
            // expired entries are always at its end.
            var now = _time.GetTimestamp();
            DropExpired(now);
            if (_index.TryGetValue(key, out var slot))
            {
                ref var known = ref _entries[slot];
                known.ConnectionId = connectionId;
                known.LastUse = now;
                MoveToNewest(slot);
                return;
            }

            if (_free == None)
            {
                Remove(_oldest);
            }

            slot = _free;
            ref var entry = ref _entries[slot];
            _free = entry.Next;
            entry.Key = key;
            entry.ConnectionId = connectionId;
            entry.LastUse = now;
            entry.Previous = None;
            entry.Next = _newest;
            if (_newest != None)
            {
                _entries[_newest].Previous = slot;
            }

            _newest = slot;
            if (_oldest == None)
            {
                _oldest = slot;
            }

            _index.Add(key, slot);
        }
    }

    private bool IsExpired(long lastUse, long now) => now - lastUse > _idleTicks;

    private void DropExpired(long now)
    {
        for (var i = 0; i < ExpiredDroppedPerCall && _oldest != None && IsExpired(_entries[_oldest].LastUse, now); i++)
        {
            Remove(_oldest);
        }
    }

    private void MoveToNewest(int slot)
    {
        if (slot == _newest)
        {
            return;
        }

        Unlink(slot);
        ref var entry = ref _entries[slot];
        entry.Previous = None;
        entry.Next = _newest;
        _entries[_newest].Previous = slot;
        _newest = slot;
    }

    private void Remove(int slot)
    {
        ref var entry = ref _entries[slot];
        _index.Remove(entry.Key);
        Unlink(slot);
        entry.ConnectionId = null;
        entry.Next = _free;
        _free = slot;
    }

    private void Unlink(int slot)
    {
        ref var entry = ref _entries[slot];
        if (entry.Previous != None)
        {
            _entries[entry.Previous].Next = entry.Next;
        }
        else
        {
            _newest = entry.Next;
        }

        if (entry.Next != None)
        {
            _entries[entry.Next].Previous = entry.Previous;
        }
        else
        {
            _oldest = entry.Previous;
        }
    }

    private struct Entry
    {
        public ulong Key;
        public string? ConnectionId;
        public long LastUse;
        public int Previous;
        public int Next;
    }
}
