namespace Gollamas.Simulator;

/// <summary>
/// Simulated time that moves only when told, for tests: an action due now runs at once on the
/// caller's thread; <see cref="AdvanceTo"/> runs every action due by then, in time order.
/// </summary>
public sealed class ManualClock : SimClock
{
    private TimeSpan _now;
    private bool _draining;

    public ManualClock()
        : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public override TimeSpan Now
    {
        get
        {
            lock (Gate)
            {
                return _now;
            }
        }
    }

    /// <summary>Runs every action due at or before <paramref name="time"/>; then it is that time.</summary>
    public void AdvanceTo(TimeSpan time)
    {
        lock (Gate)
        {
            Drain(time);
            if (time > _now)
            {
                _now = time;
            }
        }
    }

    public void Advance(TimeSpan by) => AdvanceTo(Now + by);

    protected override void Scheduled(TimeSpan at)
    {
        if (!_draining && at <= _now)
        {
            Drain(_now);
        }
    }

    private void Drain(TimeSpan limit)
    {
        _draining = true;
        try
        {
            while (TryPeek(out var at) && at <= limit)
            {
                if (at > _now)
                {
                    _now = at;
                }

                RunNext(limit);
            }
        }
        finally
        {
            _draining = false;
        }
    }
}
