namespace Gollamas.Connections;

/// <summary>
/// At most N requests in flight to one server (mirroring its OLLAMA_NUM_PARALLEL), with a
/// bounded FIFO queue in front: a request that finds every slot taken waits its turn, up to the
/// queue timeout; one that finds the queue full is refused at once; one whose client leaves
/// leaves the queue at once. A limit of 0 means no limit and costs no lock.
/// The limit may change while requests run (<see cref="SetLimits"/>): a higher one admits
/// waiting requests at once, a lower one lets those in flight finish and admits no one until
/// fewer than the new limit remain.
/// </summary>
internal sealed class ConcurrencyGate
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiting = new();

    // Slots held, counted even without a limit (so that one set later counts those already in):
    // written with Interlocked, also under the lock.
    private int _active;
    private int _limit;
    private int _queueLength;

    public ConcurrencyGate(int limit, int queueLength)
    {
        _limit = Math.Max(0, limit);
        _queueLength = Math.Max(0, queueLength);
    }

    /// <summary>Raised when a request starts waiting or stops waiting (tests wait on it).</summary>
    public event Action<ConcurrencyGate>? QueueChanged;

    public int Limit => Volatile.Read(ref _limit);

    public int QueueLength => Volatile.Read(ref _queueLength);

    public bool IsLimited => Limit > 0;

    /// <summary>Slots held now (requests that entered and have not exited).</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Requests waiting for a slot now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Whether a request would get a slot without waiting.</summary>
    public bool HasFreeSlot
    {
        get
        {
            if (!IsLimited)
            {
                return true;
            }

            lock (_lock)
            {
                return !IsLimited || (_active < Limit && _waiting.Count == 0);
            }
        }
    }

    /// <summary>
    /// Takes a slot, waiting in line if none is free. Every <see cref="GateResult.Entered"/> must
    /// be paired with one <see cref="Exit"/>.
    /// </summary>
    /// <param name="model">The model the request is for, shown in the status while it waits.</param>
    /// <param name="key">The name of the key it came with, shown likewise.</param>
    public async ValueTask<GateResult> EnterAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken, string? model = null, string? key = null)
    {
        if (!IsLimited)
        {
            Interlocked.Increment(ref _active);
            return GateResult.Entered;
        }

        LinkedListNode<Waiter> node;
        lock (_lock)
        {
            // Read again under the lock: SetLimits may have lifted the limit meanwhile, and then
            // it releases every waiter: none may be queued after it.
            if (!IsLimited || (_active < Limit && _waiting.Count == 0))
            {
                Interlocked.Increment(ref _active);
                return GateResult.Entered;
            }

            if (_waiting.Count >= QueueLength)
            {
                return GateResult.QueueFull;
            }

            node = _waiting.AddLast(new Waiter(model, key, time.GetUtcNow()));
        }

        QueueChanged?.Invoke(this);
        try
        {
            await node.Value.Task.WaitAsync(timeout, time, cancellationToken);
            return GateResult.Entered;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            bool removed;
            lock (_lock)
            {
                removed = node.List is not null;
                if (removed)
                {
                    _waiting.Remove(node);
                }
            }

            if (!removed)
            {
                // The slot was handed over just as the wait ended: pass it on.
                Exit();
            }
            else
            {
                QueueChanged?.Invoke(this);
            }

            return ex is TimeoutException ? GateResult.TimedOut : GateResult.Cancelled;
        }
    }

    /// <summary>Gives a slot back: to the first request in line if the limit allows, else to the free slots.</summary>
    public void Exit()
    {
        if (!IsLimited)
        {
            // Nobody waits without a limit (SetLimits releases them as it lifts it).
            Interlocked.Decrement(ref _active);
            return;
        }

        Waiter? next;
        lock (_lock)
        {
            Interlocked.Decrement(ref _active);
            next = AdmitNext();
        }

        if (next is not null)
        {
            next.TrySetResult();
            QueueChanged?.Invoke(this);
        }
    }

    /// <summary>
    /// Changes the limit (0: none) and the queue's length. Requests in flight keep their slot;
    /// waiting ones get the slots a higher limit frees, in their order; a shorter queue refuses
    /// newcomers until it has room, never one already in line.
    /// </summary>
    public void SetLimits(int limit, int queueLength)
    {
        var admitted = new List<Waiter>();
        lock (_lock)
        {
            Volatile.Write(ref _limit, Math.Max(0, limit));
            Volatile.Write(ref _queueLength, Math.Max(0, queueLength));
            while (AdmitNext() is { } next)
            {
                admitted.Add(next);
            }
        }

        foreach (var next in admitted)
        {
            next.TrySetResult();
        }

        if (admitted.Count > 0)
        {
            QueueChanged?.Invoke(this);
        }
    }

    /// <summary>The requests waiting now, first in line first (for the status; allocates).</summary>
    public QueuedRequest[] Queued()
    {
        lock (_lock)
        {
            var queued = new QueuedRequest[_waiting.Count];
            var position = 0;
            foreach (var waiter in _waiting)
            {
                queued[position] = new QueuedRequest(position + 1, waiter.Model, waiter.Key, waiter.Since);
                position++;
            }

            return queued;
        }
    }

    // Under _lock: the first in line, given a slot, if the limit leaves one free.
    private Waiter? AdmitNext()
    {
        if (_waiting.First is not { } first || (IsLimited && _active >= Limit))
        {
            return null;
        }

        _waiting.RemoveFirst();
        Interlocked.Increment(ref _active);
        return first.Value;
    }

    // One request in line: what the status shows of it, and the signal it waits on.
    private sealed class Waiter(string? model, string? key, DateTimeOffset since) : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public string? Model { get; } = model;

        public string? Key { get; } = key;

        public DateTimeOffset Since { get; } = since;
    }
}

/// <summary>A request waiting in a connection's line, as the status shows it.</summary>
/// <param name="Position">1 for the next to get a slot.</param>
/// <param name="Model">The model it is for, if known.</param>
/// <param name="Key">The name of the key it came with, if any.</param>
/// <param name="Since">When it started waiting.</param>
internal sealed record QueuedRequest(int Position, string? Model, string? Key, DateTimeOffset Since);
