namespace Gollamas.Simulator;

/// <summary>An action scheduled on a <see cref="SimClock"/>; cancelled, it never runs.</summary>
public sealed class SimTimer
{
    private readonly Action<TimeSpan> _action;
    private volatile bool _cancelled;

    internal SimTimer(TimeSpan at, Action<TimeSpan> action)
    {
        At = at;
        _action = action;
    }

    public TimeSpan At { get; }

    public bool Cancelled => _cancelled;

    public void Cancel() => _cancelled = true;

    internal void Run()
    {
        if (!_cancelled)
        {
            _action(At);
        }
    }
}
