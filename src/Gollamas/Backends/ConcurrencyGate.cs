namespace Gollamas.Backends;

/// <summary>
/// At most N requests in flight to one server (mirroring its OLLAMA_NUM_PARALLEL), with a
/// bounded FIFO queue in front: a request that finds every slot taken waits its turn, up to the
/// queue timeout; one that finds the queue full is refused at once; one whose client leaves
/// leaves the queue at once. A limit of 0 means no limit and costs nothing.
/// </summary>
internal sealed class ConcurrencyGate
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _waiting = new();
    private int _active;

    public ConcurrencyGate(int limit, int queueLength)
    {
        Limit = Math.Max(0, limit);
        QueueLength = Math.Max(0, queueLength);
    }

    /// <summary>Raised when a request starts waiting or stops waiting (tests wait on it).</summary>
    public event Action<ConcurrencyGate>? QueueChanged;

    public int Limit { get; }

    public int QueueLength { get; }

    public bool IsLimited => Limit > 0;

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
                return _active < Limit && _waiting.Count == 0;
            }
        }
    }

    /// <summary>
    /// Takes a slot, waiting in line if none is free. Every <see cref="GateResult.Entered"/> must
    /// be paired with one <see cref="Exit"/>.
    /// </summary>
    public async ValueTask<GateResult> EnterAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!IsLimited)
        {
            return GateResult.Entered;
        }

        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (_active < Limit && _waiting.Count == 0)
            {
                _active++;
                return GateResult.Entered;
            }

            if (_waiting.Count >= QueueLength)
            {
                return GateResult.QueueFull;
            }

            node = _waiting.AddLast(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
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

    /// <summary>Gives a slot back: to the first request in line, else to the pool of free slots.</summary>
    public void Exit()
    {
        if (!IsLimited)
        {
            return;
        }

        TaskCompletionSource? next = null;
        lock (_lock)
        {
            if (_waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                next = first.Value;
            }
            else
            {
                _active--;
            }
        }

        if (next is not null)
        {
            next.TrySetResult();
            QueueChanged?.Invoke(this);
        }
    }
}
