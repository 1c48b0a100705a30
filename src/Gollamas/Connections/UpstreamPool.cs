using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gollamas.Bodies;
using Gollamas.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gollamas.Connections;

/// <summary>
/// Idle keep-alive channels to one server, most recently used first (so a few warm
/// channels carry the load and the rest age out).
/// </summary>
internal sealed partial class UpstreamPool(Uri baseUri, ConnectionSettings settings, ILogger? logger = null, X509Certificate2Collection? trustedCertificates = null) : IDisposable
{
    private readonly ConcurrentStack<UpstreamChannel> _idle = new();
    private ConnectionSettings _settings = settings;
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private volatile bool _disposed;

    /// <summary>Connect and idle timeouts; a new snapshot may replace them, for the channels made after.</summary>
    public ConnectionSettings Settings
    {
        get => Volatile.Read(ref _settings);
        set => Volatile.Write(ref _settings, value);
    }

    /// <summary>
    /// An idle channel that still looks alive, else a new one. Connecting is bounded by the
    /// connect timeout: a <see cref="TimeoutException"/> when it runs out.
    /// </summary>
    public async ValueTask<UpstreamChannel> RentAsync(CancellationToken cancellationToken)
    {
        var current = Settings;
        while (_idle.TryPop(out var pooled))
        {
            var check = pooled.CheckIdle(current.PooledConnectionIdleTimeout);
            if (check == IdleCheck.Usable)
            {
                pooled.IsReused = true;
                return pooled;
            }

            if (check == IdleCheck.Readable)
            {
                Log.ReadableWhileIdle(_logger, baseUri);
            }

            pooled.Dispose();
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(current.ConnectTimeout);
        try
        {
            return await UpstreamChannel.ConnectAsync(baseUri, trustedCertificates, deadline.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ConnectTimeoutException($"no connection within {GoDuration.Format(current.ConnectTimeout)}", ex);
        }
    }

    /// <summary>
    /// Sends a request (<paramref name="head"/>: request line and headers) and reads the response
    /// head. A pooled channel may have been closed by the server while idle; if it fails before
    /// a single response byte, the request goes once more, and only once (the body is in memory).
    /// That is the usual keep-alive race: the server closed the idle channel as the request
    /// left, so it never processed it. The caller owns the channel: <see cref="Return"/> it
    /// once the body has been read to its end, else dispose it.
    /// </summary>
    public async ValueTask<(UpstreamChannel Channel, UpstreamResponseHead Head)> SendAsync(
        ReadOnlyMemory<byte> head, ForwardBody body, bool isHead, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var channel = await RentAsync(cancellationToken);
            var sent = false;
            try
            {
                await channel.SendAsync(head, body, cancellationToken);
                sent = true;
                return (channel, await channel.ReadResponseHeadAsync(isHead, cancellationToken));
            }
            catch (Exception ex) when (attempt == 1 && IsStale(channel, ex, sent, cancellationToken))
            {
                channel.Dispose();
            }
            catch
            {
                channel.Dispose();
                throw;
            }
        }
    }

    /// <summary>Takes a channel back after a response: kept if it can carry another, else closed.</summary>
    public void Return(UpstreamChannel channel)
    {
        if (channel.CanReuse && !_disposed)
        {
            channel.MarkIdle();
            _idle.Push(channel);
            if (_disposed && _idle.TryPop(out var late))
            {
                late.Dispose();
            }
        }
        else
        {
            if (channel.HasBytesPastResponse)
            {
                Log.BytesPastResponse(_logger, baseUri);
            }

            channel.Dispose();
        }
    }

    private static bool IsStale(UpstreamChannel channel, Exception ex, bool sent, CancellationToken cancellationToken) =>
        channel.IsReused
        && !cancellationToken.IsCancellationRequested
        && (ex is EndOfStreamException || (!sent && ex is IOException or SocketException));

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryPop(out var channel))
        {
            channel.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.PooledConnectionReadable, LogLevel.Debug,
            "Closed an idle connection to {Server}: the server sent bytes or closed it while it was idle", EventName = "PooledConnectionReadable")]
        public static partial void ReadableWhileIdle(ILogger logger, Uri server);

        [LoggerMessage(LogEventIds.BytesPastResponse, LogLevel.Debug,
            "Closed a connection to {Server}: the server sent bytes after the end of the response", EventName = "BytesPastResponse")]
        public static partial void BytesPastResponse(ILogger logger, Uri server);
    }
}
