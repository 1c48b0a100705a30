using Gollamas.Bodies;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Fleet;
using Gollamas.Forwarding;
using Gollamas.Metrics;
using Gollamas.Routing;
using Gollamas.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gollamas.Endpoints;

/// <summary>
/// The model-addressed endpoints (generate, chat, embed, embeddings, show, pull and the OpenAI
/// ones): read the body, find the model the way Ollama will, pick its server, forward.
/// </summary>
internal sealed partial class ModelEndpoints(
    StreamForwarder forwarder,
    HealthMonitor health,
    ProxyMetrics metrics,
    RequestBodies bodies,
    ConversationAffinity affinity,
    KeyLimits keyLimits,
    ILogger<ModelEndpoints> logger)
{
    private readonly ILogger _logger = logger;

    // Models whose num_ctx setting /v1 requests were warned about: once per model and process.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _openAiWarned = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Routes the request by its body, read as <paramref name="surface"/> says: how the body names
    /// its model, whether the deprecated <c>name</c> key stands in for an absent or empty
    /// <c>model</c>, whether the model's request rules (keep_alive, num_ctx, ...) are applied to the body,
    /// and where the answer counts its tokens. Routes, limits and policies are
    /// <paramref name="snapshot"/>'s, the one the request read at its start.
    /// </summary>
    public async Task HandleAsync(HttpContext context, ApiSurface surface, RequestRecord record, ProxySnapshot snapshot)
    {
        var limits = snapshot.Limits;

        // One reading: a body that goes to a file is scanned as its bytes arrive, one that stays
        // in memory in one piece once read (the fast path for small bodies). Forms are read apart.
        // It records the fields any route's rules name: the route is known only once the body is read.
        using var scan = surface.Body == BodyKind.Form
            ? null
            : JsonBodyScan.Rent(surface.NameStandsForModel, surface.AppliesLifecycle ? snapshot.Routes.Watched : WatchedFields.None);
        RequestBodyBuffer? body;
        try
        {
            body = await RequestBodyBuffer.ReadAsync(context.Request, limits.MaxRequestBodyBytes, bodies.Store, IsZstd(context, surface) ? null : scan, context.RequestAborted);
        }
        catch (BodyStoreException ex)
        {
            await BodyStoreFailedAsync(context, ex);
            return;
        }

        if (body is null)
        {
            await ErrorWriter.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body is larger than {limits.MaxRequestBodyBytes} bytes");
            return;
        }

        if (IsZstd(context, surface))
        {
            // As Ollama: the body is read decompressed. It goes on decompressed too, so aliases
            // can be spliced in, hence without its Content-Encoding.
            using var compressed = body;
            try
            {
                body = await DecompressAsync(context, compressed, scan, snapshot);
            }
            catch (BodyStoreException ex)
            {
                await BodyStoreFailedAsync(context, ex);
                return;
            }

            if (body is null)
            {
                return;
            }

            context.Request.Headers.ContentEncoding = default;
        }

        using var owned = body;

        if (surface.Body == BodyKind.Form && context.Request.Query.ContainsKey("model"))
        {
            // Go's FormValue would take the query's model before the form's: the proxy reads the form only.
            await ErrorWriter.WriteAsync(context, StatusCodes.Status400BadRequest, "gollamas: send the model as a form field, not in the query string");
            return;
        }

        var table = snapshot.Routes;
        var decision = Decide(body, scan, surface.NameStandsForModel, context.Request.Headers.ContentType, table, record);
        if (decision.Route is null)
        {
            await ErrorWriter.WriteAsync(context, decision.ErrorStatus, decision.ErrorMessage!);
            return;
        }

        var route = decision.Route;
        if (!KeyModels.Allows(KeyModels.Of(keyLimits, record), route, table))
        {
            // As unknown as a model no server has: the key is not told what others may use.
            await ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, $"model '{route.Name}' not found");
            return;
        }

        record.ResolvedModel = route.Name;
        record.ResolvedModelIsRunning = route.IsRunning;
        record.TokenCounts = surface.TokenCounts;
        var content = new ForwardBody(body);
        if (decision.IsAlias)
        {
            content = content.WithSplice(decision.TokenStart, decision.TokenLength, surface.Body == BodyKind.Form ? route.NameUtf8 : route.NameAsJsonString);
        }

        if (surface.AppliesLifecycle)
        {
            if (!RequestDefaultsSplice.TryApply(content, scan!.Layout, route.Defaults, out content))
            {
                // More copies of a field to strip than the scan keeps: forwarding it would let one through.
                await ErrorWriter.WriteAsync(context, StatusCodes.Status400BadRequest, $"gollamas: the request body repeats a field this proxy removes more than {BodyLayout.MaxMembers} times");
                return;
            }
        }
        else if (route.Defaults.NumCtx is not null && surface.LoadsModel && _openAiWarned.TryAdd(route.Canonical, 0))
        {
            Log.OpenAiIgnoresNumCtx(_logger, route.Name, route.Defaults.NumCtx.Value);
        }
        // Routes whose server is up, in RouteSelector's order (free slot, model loaded, least busy);
        // a failure before any byte reached the client (no connection, no answer, 5xx or 429)
        // sends the same body to the next, each route at most once. The last attempt answers
        // the client whatever happens.
        var attempts = route.UpRouteCount();
        var rotation = route.RouteCount > 1 ? route.NextRotation() : 0;
        var tried = 0UL;
        var conversation = route.RouteCount > 1 && TryGetConversation(surface, body, out var key) ? key : (ulong?)null;
        var request = new RouteRequest(RouteRequest.TokensOf(body.Length), AffineConnection(route, conversation), snapshot.Queue.Time.GetTimestamp());
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            var connection = route.RouteCount > 1 && _logger.IsEnabled(LogLevel.Debug)
                ? NextLogged(route, ref tried, rotation, request)
                : RouteSelector.Next(route, ref tried, rotation, request);
            if (connection is null)
            {
                break; // went down while this request was trying the others
            }

            if (!connection.TryAcquire())
            {
                // Retired by a newer snapshot since this request read its own: this attempt is
                // spent on it as on a route gone down, so the last real one still answers the client.
                continue;
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.Routed(_logger, context.Request.Path, route.Name, decision.IsAlias, connection.DisplayName);
            }

            // A generation counts on its server from now until it ends, its waits included: the
            // route choice of the requests after it reads how many are ahead of them there.
            var activity = surface.LoadsModel && !route.IsRunning ? connection.Activity(route.Canonical) : null;
            activity?.Start(loaded: connection.Health.IsLoaded(route.Canonical));
            ForwardOutcome outcome;
            try
            {
                // Every route is busy if the chosen one is: wait in its line (a bounded FIFO).
                // Only generations take a slot: /api/show and the model management calls never
                // wait behind a long answer (UIs call them all the time), as Ollama itself does not.
                var gated = surface.LoadsModel;
                var gate = GateResult.Entered;
                if (gated)
                {
                    // A free slot answers at once; only a request that queued is timed (apart,
                    // so the common path keeps no more state across its awaits).
                    var entering = connection.Gate.EnterAsync(snapshot.Queue.Timeout, snapshot.Queue.Time, context.RequestAborted, route.Name, record.KeyName);
                    gate = entering.IsCompleted ? entering.Result : await WaitInLineAsync(entering, context, connection, snapshot.Queue.Time, record);
                }

                if (gate != GateResult.Entered)
                {
                    await BusyAsync(context, connection, gate, snapshot.Queue, route);
                    return;
                }

                try
                {
                    record.Connection = connection.Id;
                    outcome = await forwarder.ForwardAsync(context, connection, content, snapshot.Forwarding, record, canFailOver: attempt < attempts);
                }
                finally
                {
                    if (gated)
                    {
                        connection.Gate.Exit();
                    }
                }
            }
            finally
            {
                activity?.End();
                connection.Release();
            }

            if (outcome == ForwardOutcome.BackendStreamBroken || (outcome == ForwardOutcome.ShuttingDown && context.Response.HasStarted))
            {
                // The 200 left before the failure: the metrics count the error it became.
                record.FailedAfterStart = outcome == ForwardOutcome.ShuttingDown ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status502BadGateway;
            }

            health.RecordRequest(connection, outcome, context.Response.StatusCode, route, loadsModel: surface.LoadsModel);
            RecordRecent(connection, route, outcome, context.Response.StatusCode, record);
            if (conversation is { } served && outcome == ForwardOutcome.Success && context.Response.StatusCode is >= 200 and < 300)
            {
                // Its slot there now holds this turn: the next one goes there if not clearly worse.
                affinity.Remember(served, connection.Id);
            }

            if (outcome == ForwardOutcome.Success)
            {
                // Only Ollama's own answers fill it: the OpenAI and Anthropic layers drop its timings.
                connection.Statistics.Record(route.Canonical, route.IsRunning, record.FinalChunk.Statistics, record.TimeToFirstToken, System.Diagnostics.Stopwatch.GetTimestamp());
            }

            if (outcome is ForwardOutcome.BackendUnreachable or ForwardOutcome.BackendTimedOut or ForwardOutcome.BackendRefused or ForwardOutcome.BackendStreamBroken)
            {
                metrics.RecordUpstreamError(connection.Id, OutcomeLabel(outcome));
            }
            if (outcome is not (ForwardOutcome.BackendUnreachable or ForwardOutcome.BackendTimedOut or ForwardOutcome.BackendRefused)
                || attempt == attempts)
            {
                return;
            }

            metrics.RecordFailover(route.Name, route.IsRunning, connection.Id);
            Log.FailedOver(_logger, route.Name, connection.DisplayName, ForwardOutcomeWords.Describe(outcome));
        }

        await AllRoutesDownAsync(context, route);
    }

    // The last minute's rates of the connection and of the model there (for the status).
    private static void RecordRecent(Connection connection, ModelRoute route, ForwardOutcome outcome, int status, RequestRecord record)
    {
        if (outcome == ForwardOutcome.ClientAborted)
        {
            return;
        }

        var error = outcome != ForwardOutcome.Success || HealthMonitor.IsServerFailure(status);
        var firstByte = record.FirstByte == 0 ? (TimeSpan?)null : System.Diagnostics.Stopwatch.GetElapsedTime(record.Started, record.FirstByte);
        var now = RecentRates.Now();
        connection.Recent.Record(now, error, firstByte, record.GeneratedTokens);
        if (!route.IsRunning)
        {
            connection.Activity(route.Canonical).Recent.Record(now, error, firstByte, record.GeneratedTokens);
        }
    }

    // Which conversation the body continues, from the whole body in memory, or from the first
    // 64 KiB of one kept in a file (where a conversation's system prompt and first turn are).
    private static bool TryGetConversation(ApiSurface surface, RequestBodyBuffer body, out ulong key)
    {
        key = 0;
        if (surface.Conversation == ConversationShape.None)
        {
            return false;
        }

        if (!body.IsSpooled)
        {
            return ConversationKey.TryCompute(body.Span, isFinalBlock: true, surface.Conversation, out key);
        }

        var prefix = System.Buffers.ArrayPool<byte>.Shared.Rent(SpooledPrefixBytes);
        try
        {
            var read = body.ReadAt(0, prefix.AsSpan(0, SpooledPrefixBytes));
            return ConversationKey.TryCompute(prefix.AsSpan(0, read), isFinalBlock: read == body.Length, surface.Conversation, out key);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(prefix);
        }
    }

    private const int SpooledPrefixBytes = 64 * 1024;

    // The route's connection the conversation last went to, if it is still one of them.
    private Connection? AffineConnection(ModelRoute route, ulong? conversation)
    {
        if (conversation is not { } key || !affinity.TryGet(key, out var id))
        {
            return null;
        }

        foreach (var connection in route.Connections)
        {
            if (string.Equals(connection.Id, id, StringComparison.Ordinal))
            {
                return connection;
            }
        }

        return null;
    }

    // The choice with every route's estimate in one debug line: kept apart, so the span and the
    // text cost nothing when debug is off.
    private Connection? NextLogged(ModelRoute route, ref ulong tried, int rotation, in RouteRequest request)
    {
        Span<double> estimates = stackalloc double[route.RouteCount];
        var chosen = RouteSelector.Next(route, ref tried, rotation, request, estimates);
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < estimates.Length; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(route.Connections[i].Id).Append(' ')
                .Append(double.IsNaN(estimates[i]) ? "-" : estimates[i] >= 1e9 ? "cooling" : estimates[i].ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " s");
        }

        Log.RouteChoice(_logger, route.Name, chosen?.Id ?? "none", text.ToString());
        return chosen;
    }

    // Asked twice (before the body is read, and after) rather than kept in a local: one more local
    // living across the read's await would grow the state machine every request allocates here
    // (336 B with it asked twice, 344 B with it kept).
    private static bool IsZstd(HttpContext context, ApiSurface surface) => surface.Body == BodyKind.JsonOrZstd && ZstdBody.IsZstd(context.Request.Headers.ContentEncoding);

    private static string OutcomeLabel(ForwardOutcome outcome) => outcome switch
    {
        ForwardOutcome.BackendUnreachable => "unreachable",
        ForwardOutcome.BackendTimedOut => "timeout",
        ForwardOutcome.BackendRefused => "refused",
        _ => "stream_broken",
    };

    /// <summary>
    /// The wait of a request that found no free slot: how long it queued goes to the metrics and,
    /// unless its client left, to the answer's <c>X-Gollamas-Queue-Wait</c> (every attempt's wait
    /// together), whether it then gets the slot or is refused.
    /// </summary>
    private async ValueTask<GateResult> WaitInLineAsync(ValueTask<GateResult> entering, HttpContext context, Connection connection, TimeProvider time, RequestRecord record)
    {
        var queued = time.GetTimestamp();
        var gate = await entering;
        var waited = time.GetElapsedTime(queued);
        metrics.RecordQueueWait(connection.Id, waited.TotalSeconds);
        if (gate != GateResult.Cancelled)
        {
            record.QueueWait += waited;
            context.Response.Headers[ProxyHeaders.QueueWait] = GoDuration.Format(record.QueueWait);
        }

        return gate;
    }

    /// <summary>A request that could not get a slot: 503 with Retry-After, or nothing if the client left.</summary>
    private Task BusyAsync(HttpContext context, Connection connection, GateResult gate, QueuePolicy queue, ModelRoute route)
    {
        var message = gate switch
        {
            GateResult.QueueFull => $"gollamas: Ollama server on {connection.PublicName} is busy: {connection.Gate.Limit} requests in flight and {connection.Gate.QueueLength} waiting, as many as its queue holds; {WaitEstimate(connection, route, queue)}; try again later",
            GateResult.TimedOut => $"gollamas: waited {GoDuration.Format(queue.Timeout)} for the Ollama server on {connection.PublicName}, still busy; try again later",
            _ => null,
        };
        if (message is null)
        {
            return Task.CompletedTask; // the client left while waiting
        }

        metrics.RecordQueueRejection(connection.Id, gate == GateResult.QueueFull ? "full" : "timeout");
        Log.Busy(_logger, connection.DisplayName, gate == GateResult.QueueFull ? "its queue is full" : "the queue timeout ran out");
        context.Response.Headers.RetryAfter = RetryAfterSeconds();
        return ErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, message);
    }

    /// <summary>
    /// How long a newcomer would wait in a full queue, in words: the requests ahead of it and the
    /// one in front of them, each holding a slot for the model's recent service time there, shared
    /// by the slots; without a service time yet, the queue timeout bounds it.
    /// </summary>
    internal static string WaitEstimate(Connection connection, ModelRoute route, QueuePolicy queue)
    {
        var limit = Math.Max(1, connection.Gate.Limit);
        if (connection.Statistics.TryGet(route.Canonical, out var statistics) && statistics.ServiceSeconds is { } service)
        {
            var seconds = (connection.Gate.QueueLength + 1) * service / limit;
            return $"a new request would wait about {GoDuration.Format(TimeSpan.FromSeconds(Math.Min(seconds, 86_400)))}";
        }

        return $"a new request could wait up to {GoDuration.Format(queue.Timeout)} (the queue timeout)";
    }

    private string RetryAfterSeconds() =>
        Math.Max(1, (int)Math.Ceiling(health.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// 503 at once, naming the model and its servers (a drained one said to be so: an operator's
    /// choice, not a failure), with Retry-After: the next probe may find one back. Never a hang
    /// on servers known to be down.
    /// </summary>
    private Task AllRoutesDownAsync(HttpContext context, ModelRoute route)
    {
        var connections = string.Join(", ", route.Connections.Select(static c => c.Health.IsDraining ? c.PublicName + " (drained)" : c.PublicName));
        var state = route.Connections.Any(static c => c.Health.IsDraining) ? "is down or drained" : "is down";
        context.Response.Headers.RetryAfter = RetryAfterSeconds();
        return ErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, $"gollamas: every Ollama server for model '{route.Name}' {state}: {connections}");
    }

    /// <summary>503: the body could not be kept (its directory is full or gone); the cause goes to the log only.</summary>
    private Task BodyStoreFailedAsync(HttpContext context, BodyStoreException ex)
    {
        Log.BodyStoreFailed(_logger, bodies.Store.Directory, FileProblem.Describe(ex.InnerException!, bodies.Store.Directory));
        context.Response.Headers.RetryAfter = RetryAfterSeconds();
        return ErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "gollamas: no room to keep the request body for now; try again later");
    }

    /// <summary>
    /// Decompresses a zstd body once a decompression slot is free (they are bounded: each holds
    /// a decoder window), or answers why not and returns null.
    /// </summary>
    private async Task<RequestBodyBuffer?> DecompressAsync(HttpContext context, RequestBodyBuffer compressed, JsonBodyScan? scan, ProxySnapshot snapshot)
    {
        var gate = bodies.Decompressions;
        var limits = snapshot.Limits;
        var entered = await gate.EnterAsync(snapshot.Queue.Timeout, snapshot.Queue.Time, context.RequestAborted);
        if (entered != GateResult.Entered)
        {
            if (entered != GateResult.Cancelled)
            {
                context.Response.Headers.RetryAfter = "1";
                await ErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "gollamas: too many zstd-compressed bodies are being read at once; try again later");
            }

            return null;
        }

        ZstdResult result;
        try
        {
            var limit = (int)Math.Min(limits.MaxDecompressedBytes, limits.MaxRequestBodyBytes);
            result = await ZstdBody.DecompressAsync(compressed, bodies.Store, limit, scan, context.RequestAborted);
        }
        finally
        {
            gate.Exit();
        }

        if (result.Body is null)
        {
            await ErrorWriter.WriteAsync(context, result.Status, result.Problem!);
        }

        return result.Body;
    }

    /// <summary>A form in a file (an audio upload) fed to the form reading in pooled chunks: never whole in memory.</summary>
    private static ModelPeekResult PeekSpooledForm(RequestBodyBuffer body, StringValues contentType, Span<char> name)
    {
        using var scan = new FormModelScan(contentType);
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            for (var offset = 0; offset < body.Length;)
            {
                var read = body.ReadAt(offset, chunk);
                if (read == 0)
                {
                    break;
                }

                scan.Feed(chunk.AsSpan(0, read));
                offset += read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }

        return scan.Complete(name);
    }

    private static RoutingDecision Decide(RequestBodyBuffer body, JsonBodyScan? scan, bool acceptName, StringValues contentType, RouteTable table, RequestRecord record)
    {
        Span<char> name = stackalloc char[ModelPeek.MaxNameChars];
        ModelPeekResult peek;
        if (scan is not null)
        {
            // A body in memory is read whole: the model is decoded from the body itself, with no
            // copy into pooled capture memory (a 16 KiB rent and return per request). A spooled
            // one was fed to the scan as it was written.
            peek = body.IsSpooled ? scan.Complete(name) : scan.ReadWhole(body.Span, name);
        }
        else if (!body.IsSpooled)
        {
            peek = FormModelPeek.Peek(body.Span, contentType, name);
        }
        else
        {
            peek = PeekSpooledForm(body, contentType, name);
        }

        switch (peek.Status)
        {
            case PeekStatus.Found:
                var requested = name[..peek.NameLength];
                if (record.WantsRequestedModel)
                {
                    record.RequestedModel = requested.ToString();
                }

                if (table.TryResolve(requested, out var match))
                {
                    return new RoutingDecision(match.Route, match.IsAlias, peek.TokenStart, peek.TokenLength, 0, null);
                }

                if (table.TryResolveRunning(requested, out var running))
                {
                    return new RoutingDecision(running, false, peek.TokenStart, peek.TokenLength, 0, null);
                }

                // Ollama's own wording and status, so clients (the ollama CLI offers a pull on it)
                // react as they would to a server without the model.
                return RoutingDecision.Error(StatusCodes.Status404NotFound, ModelSuggestions.NotFoundMessage(table, requested.ToString()));
            case PeekStatus.EmptyBody:
                return RoutingDecision.Error(StatusCodes.Status400BadRequest, "missing request body");
            case PeekStatus.InvalidJson:
                return RoutingDecision.Error(StatusCodes.Status400BadRequest, $"invalid JSON in request body: {peek.Detail}");
            case PeekStatus.NotAnObject:
                return RoutingDecision.Error(StatusCodes.Status400BadRequest, "request body must be a JSON object");
            case PeekStatus.ModelNotAString:
                return RoutingDecision.Error(StatusCodes.Status400BadRequest, acceptName ? "model (or name) must be a string" : "model must be a string");
            case PeekStatus.ModelTooLong:
                return RoutingDecision.Error(StatusCodes.Status400BadRequest, "invalid model name");
            case PeekStatus.InvalidForm:
                return RoutingDecision.Error(StatusCodes.Status400BadRequest, peek.Detail!);
            default:
                return RoutingDecision.Error(StatusCodes.Status400BadRequest, "model is required");
        }
    }

    private readonly record struct RoutingDecision(ModelRoute? Route, bool IsAlias, int TokenStart, int TokenLength, int ErrorStatus, string? ErrorMessage)
    {
        public static RoutingDecision Error(int status, string message) => new(null, false, 0, 0, status, message);
    }

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.LogEventIds.RouteChoice, LogLevel.Debug, "Model {Model}: chose {Connection}; expected time to first token {Estimates}", EventName = "RouteChoice")]
        public static partial void RouteChoice(ILogger logger, string model, string connection, string estimates);

        [LoggerMessage(Diagnostics.LogEventIds.FailedOver, LogLevel.Warning, "Model {Model}: {Backend} failed ({Outcome}); trying the next route", EventName = "FailedOver")]
        public static partial void FailedOver(ILogger logger, string model, string backend, string outcome);

        [LoggerMessage(Diagnostics.LogEventIds.Busy, LogLevel.Warning, "Ollama server {Backend} is at its limit: request refused ({Result})", EventName = "Busy")]
        public static partial void Busy(ILogger logger, string backend, string result);

        [LoggerMessage(Diagnostics.LogEventIds.OpenAiIgnoresNumCtx, LogLevel.Warning, "Model {Model} has num_ctx {NumCtx}, but OpenAI- and Anthropic-compatible (/v1) requests cannot carry it: Ollama loads the model with its default context for them, reloading it if it was loaded with {NumCtx}. For /v1 clients set OLLAMA_CONTEXT_LENGTH on the server or PARAMETER num_ctx in the model", EventName = "OpenAiIgnoresNumCtx")]
        public static partial void OpenAiIgnoresNumCtx(ILogger logger, string model, int numCtx);

        [LoggerMessage(Diagnostics.LogEventIds.BodyStoreFailed, LogLevel.Error, "A request body could not be kept in {Directory}: {Problem}", EventName = "BodyStoreFailed")]
        public static partial void BodyStoreFailed(ILogger logger, string directory, string problem);

        [LoggerMessage(Diagnostics.LogEventIds.Routed, LogLevel.Debug, "{Path}: model {Model} (alias: {IsAlias}) -> {Backend}", EventName = "Routed")]
        public static partial void Routed(ILogger logger, PathString path, string model, bool isAlias, string backend);
    }
}
