namespace Gollamas.Forwarding;

/// <summary>
/// The one cancellation token of a forwarded request, and why it fired: the client left, the
/// server went silent for longer than the idle timeout (reset at every chunk, so a long
/// generation is fine and a silent server is not), or the proxy's drain time ran out.
/// </summary>
internal sealed class UpstreamWatch : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _clientAborted;
    private readonly CancellationToken _drainDeadline;
    private readonly TimeSpan _idleTimeout;

    public UpstreamWatch(TimeSpan idleTimeout, CancellationToken clientAborted, CancellationToken drainDeadline)
    {
        _clientAborted = clientAborted;
        _drainDeadline = drainDeadline;
        _idleTimeout = idleTimeout;
        _source = CancellationTokenSource.CreateLinkedTokenSource(clientAborted, drainDeadline);
        Touch();
    }

    public CancellationToken Token => _source.Token;

    public bool ClientLeft => _clientAborted.IsCancellationRequested;

    public bool ShuttingDown => !ClientLeft && _drainDeadline.IsCancellationRequested;

    public bool WentSilent => !ClientLeft && !ShuttingDown && _source.IsCancellationRequested;

    public TimeSpan IdleTimeout => _idleTimeout;

    /// <summary>The server just sent something: the idle clock starts again.</summary>
    public void Touch()
    {
        if (_idleTimeout > TimeSpan.Zero)
        {
            _source.CancelAfter(_idleTimeout);
        }
    }

    public void Dispose() => _source.Dispose();
}
