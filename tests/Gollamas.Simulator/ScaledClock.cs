using System.Diagnostics;

namespace Gollamas.Simulator;

/// <summary>
/// Simulated time running <see cref="Scale"/> times faster than real time, for runs against real
/// proxies: a dedicated thread runs each action when its simulated time has come. An action that
/// runs late still receives its own time, so the model's figures do not depend on the machine's
/// load; only what the clients measure does.
/// </summary>
public sealed class ScaledClock : SimClock
{
    private readonly long _start;
    private readonly Thread _thread;
    private bool _stopped;

    public ScaledClock(double scale)
        : base(DateTimeOffset.UtcNow)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        Scale = scale;
        _start = Stopwatch.GetTimestamp();
        _thread = new Thread(Run) { IsBackground = true, Name = "simulated clock" };
        _thread.Start();
    }

    /// <summary>Simulated seconds per real second.</summary>
    public double Scale { get; }

    public override TimeSpan Now => Stopwatch.GetElapsedTime(_start) * Scale;

    /// <summary>The real time that <paramref name="simulated"/> takes.</summary>
    public TimeSpan ToReal(TimeSpan simulated) => simulated / Scale;

    protected override void Scheduled(TimeSpan at) => Monitor.PulseAll(Gate);

    protected override void Dispose(bool disposing)
    {
        lock (Gate)
        {
            _stopped = true;
            Monitor.PulseAll(Gate);
        }

        if (disposing && Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        base.Dispose(disposing);
    }

    private void Run()
    {
        lock (Gate)
        {
            while (!_stopped)
            {
                if (RunNext(Now))
                {
                    continue;
                }

                if (!TryPeek(out var next))
                {
                    Monitor.Wait(Gate);
                    continue;
                }

                var real = ToReal(next - Now);
                Monitor.Wait(Gate, TimeSpan.FromMilliseconds(Math.Clamp(Math.Ceiling(real.TotalMilliseconds), 1, 1000)));
            }
        }
    }
}
