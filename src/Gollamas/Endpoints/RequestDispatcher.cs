using System.Diagnostics;
using System.Globalization;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Metrics;
using Gollamas.Routing;
using Gollamas.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gollamas.Endpoints;

/// <summary>
/// The single terminal request delegate: finds the request's row in <see cref="EndpointTable"/>
/// (which sets the shape of its errors), then the Host check, CORS and API keys, then the row's
/// handler; anything else gets a JSON 404 (unknown path) or 405 (known path, wrong method). One
/// last-chance catch turns the unexpected into a 500 without a stack trace reaching the client.
/// Each request reads the current <see cref="ProxySnapshot"/> once, here, and every endpoint
/// serves it from that one.
/// </summary>
internal sealed partial class RequestDispatcher(
    HostAllowList hosts,
    ProxySnapshotHolder snapshots,
    EndpointSet endpoints,
    ApiKeys apiKeys,
    ApiKeys adminKeys,
    ProxyMetrics metrics,
    KeyMetrics keyMetrics,
    KeyLimits keyLimits,
    EndpointGroups mainServes,
    bool accessLog,
    bool accessLogProbes,
    ILogger<RequestDispatcher> logger)
{
    private readonly ILogger _logger = logger;

    /// <summary>
    /// What the proxy's own address serves: the API, with /metrics unless metrics are off or have
    /// their own address, and the admin routes unless they have theirs.
    /// </summary>
    public static EndpointGroups MainGroups(MetricsOptions metrics, SecurityOptions security)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(security);
        var groups = EndpointGroups.Api;
        if (metrics.Enabled && metrics.Listen is null)
        {
            groups |= EndpointGroups.Metrics;
        }

        if (security.AdminListen is null)
        {
            groups |= EndpointGroups.Admin;
        }

        return groups;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var record = new RequestRecord { WantsRequestedModel = accessLog };
        var path = context.Request.Path.Value ?? "/";
        var control = ReadFields(context, out var givenId);
        SetRequestId(context, record, givenId);

        // Which API the request belongs to is known before anything can fail: every error of the
        // request, the refusals below included, is written in that API's shape.
        var surface = EndpointTable.Find(path);
        context.Features.Set(ErrorShapeFeature.Of(surface?.ErrorShape ?? EndpointTable.ErrorShapeOfUnknown(path)));
        try
        {
            // Where Go's server stops a request before any handler sees it.
            if (control is { } where)
            {
                await ErrorWriter.WriteAsync(context, StatusCodes.Status400BadRequest, $"bad request: {where} holds a control character");
                return;
            }

            // Then, every path included, as Ollama's middleware: a foreign name
            // on a loopback listener is a web page that re-pointed its own name at this machine.
            var marks = ListenerMarks.Of(context);
            if (!hosts.AllowsAll && marks is { ChecksHost: true } && !IsAllowedHost(marks, context.Request.Host.Value))
            {
                await ForeignHostAsync(context);
                return;
            }

            // A row this address does not serve is an unknown path here, and so are the admin
            // actions when no admin key is configured: off, not open.
            var serves = marks is { Serves: not EndpointGroups.None } ? marks.Serves : mainServes;
            if (surface is not null && ((surface.Groups & serves) == 0 || (surface.Access == EndpointAccess.Admin && !adminKeys.IsEnabled)))
            {
                surface = null;
            }

            var servesApi = (serves & EndpointGroups.Api) != 0;
            if (!servesApi && surface is null)
            {
                // An address of its own serves its rows and nothing else, without asking for a key first.
                record.Endpoint = serves == EndpointGroups.Metrics ? EndpointTable.Metrics.MetricLabel : null;
                await ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, $"gollamas: this address serves only {Describe(serves)}");
                return;
            }

            var snapshot = snapshots.Current;
            if (snapshot.Cors.TryAnswer(context))
            {
                return;
            }

            if (!await AuthorizeAsync(context, surface?.Access ?? EndpointAccess.Client, servesApi, record))
            {
                return;
            }

            await DispatchAsync(context, path, surface, record, snapshot);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own limits and framing checks: body too large, truncated or malformed chunks.
            if (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                await ErrorWriter.WriteAsync(context, ex.StatusCode, DescribeBadRequest(context, ex.StatusCode));
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; nobody is there to answer.
        }
        catch (Exception ex)
        {
            Log.Unexpected(_logger, context.Request.Method, context.Request.Path, ex);
            if (context.Response.HasStarted)
            {
                context.Abort();
            }
            else
            {
                context.Response.Clear();
                context.Response.Headers[ProxyHeaders.RequestId] = record.Id;
                await ErrorWriter.WriteAsync(context, StatusCodes.Status500InternalServerError, "gollamas: internal error");
            }
        }
        finally
        {
            metrics.RecordRequest(record, context.Response.StatusCode);
            if (record.KeyName is not null)
            {
                keyMetrics.Record(record);
                if (record.KeyLimited)
                {
                    keyLimits.For(record.KeyName)!.End();
                }
            }

            if (accessLog && _logger.IsEnabled(LogLevel.Information) && (accessLogProbes || !IsQuietProbe(context, surface)))
            {
                WriteAccessLog(context, record);
            }
        }
    }

    // Whether the request may go on; if not, its refusal is written. The key's name goes on the record.
    private ValueTask<bool> AuthorizeAsync(HttpContext context, EndpointAccess access, bool servesApi, RequestRecord record)
    {
        switch (access)
        {
            case EndpointAccess.Open:
                return ValueTask.FromResult(true);
            case EndpointAccess.Client:
                // The metrics address asks for no key; everything else on the proxy's own address does, when keys are set.
                if (!servesApi || !apiKeys.IsEnabled)
                {
                    return ValueTask.FromResult(true);
                }

                record.KeyName = apiKeys.Match(context.Request);
                if (record.KeyName is null)
                {
                    return Refuse(UnauthorizedAsync(context));
                }

                return keyLimits.IsEmpty ? ValueTask.FromResult(true) : Limit(context, record);
            case EndpointAccess.StatusReader:
                if (!apiKeys.IsEnabled && !adminKeys.IsEnabled)
                {
                    return ValueTask.FromResult(true);
                }

                record.KeyName = adminKeys.Match(context.Request);
                record.KeyIsAdmin = record.KeyName is not null;
                record.KeyName ??= apiKeys.Match(context.Request);
                return record.KeyName is not null ? ValueTask.FromResult(true) : Refuse(UnauthorizedAsync(context));
            default:
                record.KeyName = adminKeys.Match(context.Request);
                record.KeyIsAdmin = record.KeyName is not null;
                if (record.KeyName is not null)
                {
                    return ValueTask.FromResult(true);
                }

                return Refuse(apiKeys.Match(context.Request) is not null ? NotAdminAsync(context) : UnauthorizedAsync(context, admin: true));
        }

        static async ValueTask<bool> Refuse(Task refusal)
        {
            await refusal;
            return false;
        }
    }

    // The key's own limits, when it has any: 429 with Retry-After over them.
    private ValueTask<bool> Limit(HttpContext context, RequestRecord record)
    {
        if (keyLimits.For(record.KeyName) is not { } limit)
        {
            return ValueTask.FromResult(true);
        }

        if (limit.TryStart(out var retryAfter) is not { } refusal)
        {
            record.KeyLimited = true;
            return ValueTask.FromResult(true);
        }

        Log.KeyLimited(_logger, record.KeyName!, context.Request.Method, context.Request.Path);
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return RefuseAsync(ErrorWriter.WriteAsync(context, StatusCodes.Status429TooManyRequests, refusal));

        static async ValueTask<bool> RefuseAsync(Task refusal)
        {
            await refusal;
            return false;
        }
    }

    private static string Describe(EndpointGroups serves) => serves switch
    {
        EndpointGroups.Metrics => "GET /metrics",
        EndpointGroups.Admin => "the status and the admin actions under /gollamas/",
        _ => "GET /metrics, and the status and the admin actions under /gollamas/",
    };

    private Task DispatchAsync(HttpContext context, string path, ApiSurface? surface, RequestRecord record, ProxySnapshot snapshot)
    {
        record.Endpoint = surface?.MetricLabel;
        if (surface is null)
        {
            return ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, $"gollamas: no endpoint {context.Request.Method} {path}");
        }

        return surface.Allows(context.Request.Method)
            ? surface.Handler(endpoints, context, surface, record, snapshot)
            : MethodNotAllowed(context, surface.Allow);
    }

    /// <summary>
    /// One pass over the request target and the header fields, for what is needed before
    /// anything else: where a control character is (<see cref="ControlCharacters"/>:
    /// "a header value", "the request target", or null), and the client's <c>X-Request-Id</c>
    /// (<paramref name="givenId"/>: its value when it came once, else null).
    /// </summary>
    private static string? ReadFields(HttpContext context, out string? givenId)
    {
        givenId = null;
        var idFields = 0;
        string? control = ControlCharacters.InTarget(context.Features.Get<IHttpRequestFeature>()?.RawTarget) ? "the request target" : null;
        foreach (var (name, values) in context.Request.Headers)
        {
            if (name.Length == ProxyHeaders.RequestId.Length && string.Equals(name, ProxyHeaders.RequestId, StringComparison.OrdinalIgnoreCase))
            {
                idFields += values.Count;
                givenId = values.Count == 1 ? values[0] : null;
            }

            if (control is null && ControlCharacters.InHeaderValues(values))
            {
                control = "a header value";
            }
        }

        if (idFields != 1)
        {
            givenId = null;
        }

        return control;
    }

    /// <summary>
    /// Gives the request its id (<see cref="RequestId"/>): the client's <c>X-Request-Id</c>
    /// (<paramref name="givenId"/>) if it is sane, else a new one, which is what Ollama gets in
    /// the client's place (<see cref="Connections.RequestHeadWriter.RentForwarded"/>), so that the log, the
    /// client and the server see one id. The answer carries it whatever it is, errors too.
    /// </summary>
    private static void SetRequestId(HttpContext context, RequestRecord record, string? givenId)
    {
        var id = RequestId.IsSane(givenId) ? givenId! : RequestId.Next();
        record.Id = id;
        context.Response.Headers[ProxyHeaders.RequestId] = id;
    }

    /// <summary>
    /// A scrape or a probe that succeeded: <c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>, and
    /// <c>HEAD /</c> (what load balancers send to see a server answer; a <c>GET /</c> may be a
    /// person or a client checking, and stays). Left out of the access log unless
    /// <c>--access-log-probes</c>: every few seconds for ever, they would bury the requests.
    /// One that fails is logged: it is news.
    /// </summary>
    private static bool IsQuietProbe(HttpContext context, ApiSurface? surface) =>
        context.Response.StatusCode < StatusCodes.Status400BadRequest
        && surface is { Path: "/metrics" or "/healthz" or "/readyz" or "/" } probe
        && (probe.Path != "/" || HttpMethods.IsHead(context.Request.Method));

    private void WriteAccessLog(HttpContext context, RequestRecord record)
    {
        var request = context.Request;
        var response = context.Response;
        var elapsed = Stopwatch.GetElapsedTime(record.Started).TotalMilliseconds;
        var firstByte = record.FirstByte == 0 ? elapsed : Stopwatch.GetElapsedTime(record.Started, record.FirstByte).TotalMilliseconds;
        var bytes = record.BytesOut >= 0 ? record.BytesOut : response.ContentLength ?? 0;
        Log.Access(
            _logger,
            request.Method,
            request.Path,
            response.StatusCode,
            record.RequestedModel ?? "-",
            record.ResolvedModel ?? "-",
            record.Connection ?? "-",
            bytes,
            firstByte,
            elapsed,
            context.Connection.RemoteIpAddress?.ToString() ?? "-",
            record.KeyName ?? "-",
            record.Id ?? "-");
    }

    // A Host this connection already had allowed is allowed again without parsing it.
    private bool IsAllowedHost(ListenerMarks marks, string? host)
    {
        if (host is not null && ReferenceEquals(host, marks.AllowedHost))
        {
            return true;
        }

        if (!hosts.IsAllowed(host))
        {
            return false;
        }

        marks.AllowedHost = host;
        return true;
    }

    private Task ForeignHostAsync(HttpContext context)
    {
        Log.ForeignHost(_logger, context.Request.Method, context.Request.Path, context.Request.Host.Value ?? "", context.Connection.RemoteIpAddress?.ToString() ?? "-");
        return ErrorWriter.WriteAsync(
            context,
            StatusCodes.Status403Forbidden,
            "forbidden: this server answers only its local names; start gollamas with --allowed-hosts NAME to serve another");
    }

    private Task UnauthorizedAsync(HttpContext context, bool admin = false)
    {
        Log.Unauthorized(_logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString() ?? "-", admin ? "admin key" : "API key");
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return ErrorWriter.WriteAsync(
            context,
            StatusCodes.Status401Unauthorized,
            admin ? "unauthorized: send a valid admin key as 'Authorization: Bearer KEY'" : "unauthorized: send a valid API key as 'Authorization: Bearer KEY'");
    }

    // A valid API key on an admin action: known, but not allowed to do this, so 403 rather than
    // 401 (another try with the same key cannot succeed; the client needs another kind of key).
    private Task NotAdminAsync(HttpContext context)
    {
        Log.NotAdmin(_logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString() ?? "-");
        return ErrorWriter.WriteAsync(context, StatusCodes.Status403Forbidden, "forbidden: an API key cannot do admin actions; send an admin key");
    }

    private static Task MethodNotAllowed(HttpContext context, string allow)
    {
        context.Response.Headers.Allow = allow;
        return ErrorWriter.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, $"method {context.Request.Method} not allowed on {context.Request.Path}");
    }

    // Kestrel's messages ("Bad chunk size data.") are its own; a client gets ours, by status.
    private static string DescribeBadRequest(HttpContext context, int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge when context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is long limit =>
            $"request body is larger than {limit.ToString(CultureInfo.InvariantCulture)} bytes",
        StatusCodes.Status413PayloadTooLarge => "request body is too large",
        StatusCodes.Status408RequestTimeout => "the request body did not arrive in time",
        _ => "invalid request body: its framing (chunk sizes, Content-Length) is broken",
    };

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.Access, LogLevel.Information, "{Method} {Path} {Status} model={Model} resolved={Resolved} connection={Connection} bytes={Bytes} ttfb_ms={FirstByteMs:0.###} duration_ms={DurationMs:0.###} client={Client} key={Key} id={RequestId}", EventName = "Access")]
        public static partial void Access(ILogger logger, string method, PathString path, int status, string model, string resolved, string connection, long bytes, double firstByteMs, double durationMs, string client, string key, string requestId);

        [LoggerMessage(LogEventIds.Unauthorized, LogLevel.Warning, "Refused {Method} {Path} from {Client}: missing or wrong {Kind}", EventName = "Unauthorized")]
        public static partial void Unauthorized(ILogger logger, string method, PathString path, string client, string kind);

        [LoggerMessage(LogEventIds.KeyLimited, LogLevel.Warning, "Refused {Method} {Path} of key {Key}: over its limit", EventName = "KeyLimited")]
        public static partial void KeyLimited(ILogger logger, string key, string method, PathString path);

        [LoggerMessage(LogEventIds.NotAdmin, LogLevel.Warning, "Refused {Method} {Path} from {Client}: an API key, not an admin key", EventName = "NotAdmin")]
        public static partial void NotAdmin(ILogger logger, string method, PathString path, string client);

        [LoggerMessage(LogEventIds.ForeignHost, LogLevel.Warning, "Refused {Method} {Path} for Host {Host} from {Client}: not a local name nor an --allowed-hosts one", EventName = "ForeignHost")]
        public static partial void ForeignHost(ILogger logger, string method, PathString path, string host, string client);

        [LoggerMessage(LogEventIds.UnexpectedError, LogLevel.Error, "Unexpected error on {Method} {Path}", EventName = "UnexpectedError")]
        public static partial void Unexpected(ILogger logger, string method, PathString path, Exception exception);
    }
}
