using System.Collections.Concurrent;

namespace Gollamas.Backends;

/// <summary>
/// Idle keep-alive connections to one server, most recently used first (so a few warm
/// connections carry the load and the rest age out).
/// </summary>
internal sealed class UpstreamPool(Uri baseUri, BackendSettings settings) : IDisposable
{
    private readonly ConcurrentStack<UpstreamConnection> _idle = new();
    private volatile bool _disposed;

    /// <summary>
    /// An idle connection that still looks alive, else a new one. Connecting is bounded by the
    /// connect timeout: a <see cref="TimeoutException"/> when it runs out.
    /// </summary>
    public async ValueTask<UpstreamConnection> RentAsync(CancellationToken cancellationToken)
    {
        while (_idle.TryPop(out var pooled))
        {
            if (pooled.IsUsable(settings.PooledConnectionIdleTimeout))
            {
                pooled.IsReused = true;
                return pooled;
            }

            pooled.Dispose();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.ConnectTimeout);
        try
        {
            return await UpstreamConnection.ConnectAsync(baseUri, deadline.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no connection within {settings.ConnectTimeout.TotalSeconds:0.###} s", ex);
        }
    }

    /// <summary>Takes a connection back after a response: kept if it can carry another, else closed.</summary>
    public void Return(UpstreamConnection connection)
    {
        if (connection.CanReuse && !_disposed)
        {
            connection.MarkIdle();
            _idle.Push(connection);
            if (_disposed && _idle.TryPop(out var late))
            {
                late.Dispose();
            }
        }
        else
        {
            connection.Dispose();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryPop(out var connection))
        {
            connection.Dispose();
        }
    }
}
