using Gollamas.Bodies;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Fleet;
using Gollamas.Forwarding;
using Gollamas.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gollamas.Endpoints;

/// <summary>
/// The endpoints of no model that one server answers for all of them: Ollama's web search and
/// fetch (which the server makes on ollama.com with its own sign-in), its model recommendations,
/// and who that server is signed in as (<c>/api/me</c>, which <c>ollama run</c> asks before it
/// uses a cloud model). The request goes, as it came, to the first connection in declaration
/// order that is not down: the same server while it is up, so the account searches are made
/// with is the operator's choice (list that server first). A failure before the first byte to
/// the client (no answer, a 5xx or 429) moves it to the next, the last one answering whatever
/// happens.
/// </summary>
/// <remarks>
/// Outcomes are not taken into the servers' health: a 5xx here is as often ollama.com's answer
/// passed on (a search service down, an account over its limit) as the server's own.
/// </remarks>
internal sealed partial class OneServerEndpoint(StreamForwarder forwarder, HealthMonitor health, RequestBodies bodies, ILogger<OneServerEndpoint> logger)
{
    private readonly ILogger _logger = logger;

    public async Task HandleAsync(HttpContext context, RequestRecord record, ProxySnapshot snapshot)
    {
        var limits = snapshot.Limits;
        RequestBodyBuffer? body;
        try
        {
            body = await RequestBodyBuffer.ReadAsync(context.Request, limits.MaxRequestBodyBytes, bodies.Store, null, context.RequestAborted);
        }
        catch (BodyStoreException ex)
        {
            Log.BodyStoreFailed(_logger, bodies.Store.Directory, FileProblem.Describe(ex.InnerException!, bodies.Store.Directory));
            context.Response.Headers.RetryAfter = "1";
            await ErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "gollamas: no room to keep the request body for now; try again later");
            return;
        }

        if (body is null)
        {
            await ErrorWriter.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body is larger than {limits.MaxRequestBodyBytes} bytes");
            return;
        }

        using var owned = body;
        var connections = snapshot.Routes.AllConnections;
        // A drained server takes no new requests, as for a model's routes. Availability is read
        // once: whether a failure may fail over is decided on the same list that is walked.
        var available = new List<Connection>(connections.Count);
        var drained = false;
        foreach (var connection in connections)
        {
            if (connection.Health.IsAvailable)
            {
                available.Add(connection);
            }

            drained |= connection.Health.IsDraining;
        }

        for (var i = 0; i < available.Count; i++)
        {
            var connection = available[i];
            var last = i == available.Count - 1;
            if (!connection.TryAcquire())
            {
                // Retired by a newer snapshot since this request read its own: as a server gone down.
                continue;
            }

            ForwardOutcome outcome;
            try
            {
                record.Connection = connection.Id;
                outcome = await forwarder.ForwardAsync(context, connection, new ForwardBody(body), snapshot.Forwarding, record, canFailOver: !last);
            }
            finally
            {
                connection.Release();
            }

            if (outcome is not (ForwardOutcome.BackendUnreachable or ForwardOutcome.BackendTimedOut or ForwardOutcome.BackendRefused) || last)
            {
                return;
            }

            Log.FailedOver(_logger, context.Request.Path, connection.DisplayName, ForwardOutcomeWords.Describe(outcome));
        }

        // The next probe may find one back.
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(health.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await ErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, drained ? "gollamas: every Ollama server is down or drained" : "gollamas: every Ollama server is down");
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.BodyStoreFailed, LogLevel.Error, "A request body could not be kept in {Directory}: {Problem}", EventName = "BodyStoreFailed")]
        public static partial void BodyStoreFailed(ILogger logger, string directory, string problem);

        [LoggerMessage(LogEventIds.OneServerFailedOver, LogLevel.Warning, "{Path}: {Backend} failed ({Outcome}); trying the next server", EventName = "OneServerFailedOver")]
        public static partial void FailedOver(ILogger logger, PathString path, string backend, string outcome);
    }
}
