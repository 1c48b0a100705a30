namespace Gollamas.Forwarding;

/// <summary>
/// Where the process is in its life: serving, or draining after a stop signal. Draining makes
/// /readyz answer 503 at once; at the drain deadline, requests still running are ended (streams
/// with an in-band error) through <see cref="DrainDeadline"/>.
/// </summary>
internal sealed class ProxyLifecycle : IDisposable
{
    private readonly CancellationTokenSource _deadline = new();
    private ITimer? _timer;
    private volatile bool _draining;

    public bool IsDraining => _draining;

    /// <summary>Cancelled when the drain time is up: whatever still runs must end now.</summary>
    public CancellationToken DrainDeadline => _deadline.Token;

    /// <summary>Starts draining; after <paramref name="drainTimeout"/> the deadline fires.</summary>
    public void BeginDraining(TimeSpan drainTimeout, TimeProvider time)
    {
        _draining = true;
        _timer = time.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(), _deadline, drainTimeout, Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _deadline.Dispose();
    }
}
