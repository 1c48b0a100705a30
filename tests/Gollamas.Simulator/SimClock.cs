namespace Gollamas.Simulator;

/// <summary>
/// The one clock of a simulated fleet, in simulated time since the fleet started. Every change of
/// a server's state runs as an action of this clock, one at a time and in time order, so the
/// performance model is single-threaded by construction: an action receives the simulated time
/// it stands for (its scheduled time, not the moment it happened to run).
/// </summary>
public abstract class SimClock : IDisposable
{
    private readonly PriorityQueue<SimTimer, (TimeSpan At, long Sequence)> _queue = new();
    private long _sequence;

    protected SimClock(DateTimeOffset epoch) => Epoch = epoch;

    /// <summary>The wall-clock time of simulated time zero (for <c>created_at</c>, <c>expires_at</c>).</summary>
    public DateTimeOffset Epoch { get; }

    /// <summary>Simulated time since the fleet started.</summary>
    public abstract TimeSpan Now { get; }

    /// <summary>The gate every action runs under; held while scheduling too.</summary>
    protected object Gate { get; } = new();

    /// <summary>The wall-clock time that simulated time <paramref name="at"/> stands for.</summary>
    public DateTimeOffset UtcAt(TimeSpan at) => Epoch + at;

    /// <summary>Runs <paramref name="action"/> at simulated time <paramref name="at"/> (at once when that is past).</summary>
    public SimTimer Schedule(TimeSpan at, Action<TimeSpan> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (Gate)
        {
            var timer = new SimTimer(at, action);
            _queue.Enqueue(timer, (at, _sequence++));
            Scheduled(at);
            return timer;
        }
    }

    /// <summary>Runs <paramref name="action"/> now, after every action already due.</summary>
    public SimTimer Post(Action<TimeSpan> action) => Schedule(Now, action);

    /// <summary>Completes at simulated time <paramref name="at"/>.</summary>
    public Task DelayUntilAsync(TimeSpan at, CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var timer = Schedule(at, _ => done.TrySetResult());
        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() =>
            {
                timer.Cancel();
                done.TrySetCanceled(cancellationToken);
            });
            _ = done.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return done.Task;
    }

    /// <summary>The first action that threw, if any: the model is broken and its figures are not to be trusted.</summary>
    public Exception? Fault { get; private set; }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Called under <see cref="Gate"/> after a timer at <paramref name="at"/> was queued.</summary>
    protected abstract void Scheduled(TimeSpan at);

    /// <summary>The time of the next live timer, under <see cref="Gate"/>.</summary>
    protected bool TryPeek(out TimeSpan at)
    {
        while (_queue.TryPeek(out var timer, out var key))
        {
            if (!timer.Cancelled)
            {
                at = key.At;
                return true;
            }

            _queue.Dequeue();
        }

        at = default;
        return false;
    }

    /// <summary>Runs the next timer if it is due at or before <paramref name="limit"/>, under <see cref="Gate"/>.</summary>
    protected bool RunNext(TimeSpan limit)
    {
        if (!TryPeek(out var at) || at > limit)
        {
            return false;
        }

        var timer = _queue.Dequeue();
        try
        {
            timer.Run();
        }
#pragma warning disable CA1031 // A broken action must not stop the clock; it is kept and reported.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fault ??= ex;
        }

        return true;
    }
}
