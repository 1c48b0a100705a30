using System.Text.Json;
using Gollamas.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gollamas.Connections;

/// <summary>
/// Sends one GET to several connections at once, each bounded by the same deadline. A failing or
/// slow server becomes a null document (logged), so it degrades a merged answer, never fails or
/// delays it past the deadline.
/// </summary>
internal sealed partial class FanOut(TimeSpan timeout, ILogger<FanOut> logger)
{
    private readonly ILogger _logger = logger;

    /// <summary>The deadline of each connection call; also bounds other short questions to a connection.</summary>
    public TimeSpan Timeout => timeout;

    /// <summary>How a call that hit <see cref="Timeout"/> is described in logs and error messages.</summary>
    public string TimeoutReason => $"no answer within {GoDuration.Format(timeout)}";

    /// <summary>
    /// Results in the order of <paramref name="connections"/>. The caller disposes the documents.
    /// Each call carries <paramref name="requestId"/> (the client request's) as <c>X-Request-Id</c>.
    /// </summary>
    public async Task<FanOutResult[]> GetAsync(IReadOnlyList<Connection> connections, string path, CancellationToken cancellationToken, string? requestId = null)
    {
        var tasks = new Task<FanOutResult>[connections.Count];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = GetOneAsync(connections[i], path, requestId, cancellationToken);
        }

        return await Task.WhenAll(tasks);
    }

    private async Task<FanOutResult> GetOneAsync(Connection connection, string path, string? requestId, CancellationToken cancellationToken)
    {
        if (connection.Health.IsDown || !connection.TryAcquire())
        {
            // Known down (left out at once rather than waited on until the deadline), or
            // retired by a newer snapshot since the request read its own.
            return new FanOutResult(connection, null);
        }

        try
        {
            return await GetAcquiredAsync(connection, path, requestId, cancellationToken);
        }
        finally
        {
            connection.Release();
        }
    }

    private async Task<FanOutResult> GetAcquiredAsync(Connection connection, string path, string? requestId, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, connection.CreateUri(path, null));
            if (requestId is not null)
            {
                request.Headers.TryAddWithoutValidation(ProxyHeaders.RequestId, requestId);
            }

            using var response = await connection.Invoker.SendAsync(request, deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                Log.Failed(_logger, connection.DisplayName, path, $"status {(int)response.StatusCode}");
                return new FanOutResult(connection, null);
            }

            await using var body = await response.Content.ReadAsStreamAsync(deadline.Token);
            var document = await JsonDocument.ParseAsync(body, default, deadline.Token);
            return new FanOutResult(connection, document);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or OperationCanceledException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                var reason = ex is OperationCanceledException ? TimeoutReason : UpstreamFailure.Describe(ex);
                Log.Failed(_logger, connection.DisplayName, path, reason);
            }

            return new FanOutResult(connection, null);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.FanOutFailed, LogLevel.Warning, "Ollama server {Backend} left out of {Path}: {Reason}", EventName = "FanOutFailed")]
        public static partial void Failed(ILogger logger, string backend, string path, string reason);
    }
}
