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
    ProxyMetrics metrics,
    MetricsOptions metricsOptions,
    bool accessLog,
    bool accessLogProbes,
    ILogger<RequestDispatcher> logger)
{
    private readonly ILogger _logger = logger;

    // /metrics on the proxy's own address: enabled, and not moved to an address of its own.
    private readonly bool _servesMetrics = metricsOptions.Enabled && metricsOptions.Listen is null;

    public async Task InvokeAsync(HttpContext context)
    {
        var record = new RequestRecord { WantsRequestedModel = accessLog };
        var path = context.Request.Path.Value ?? "/";
        SetRequestId(context, record);

        // Which API the request belongs to is known before anything can fail: every error of the
        // request, the refusals below included, is written in that API's shape.
        var surface = EndpointTable.Find(path);
        context.Features.Set(ErrorShapeFeature.Of(surface?.ErrorShape ?? EndpointTable.ErrorShapeOfUnknown(path)));
        try
        {
            // Where Go's server stops a request before any handler sees it.
            if (ControlCharacters.Find(context) is { } where)
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

            if (metricsOptions.Listen is not null && marks is { MetricsOnly: true })
            {
                // The separate metrics address serves /metrics and nothing else, without a key.
                record.Endpoint = EndpointTable.Metrics.MetricLabel;
                await (surface == EndpointTable.Metrics && surface.Allows(context.Request.Method)
                    ? endpoints.Metrics.HandleAsync(context)
                    : ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, "gollamas: this address serves only GET /metrics"));
                return;
            }

            var snapshot = snapshots.Current;
            if (snapshot.Cors.TryAnswer(context))
            {
                return;
            }

            if (!apiKeys.IsAuthorized(context.Request) && surface is not { KeyExempt: true })
            {
                await UnauthorizedAsync(context);
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
            if (accessLog && _logger.IsEnabled(LogLevel.Information) && (accessLogProbes || !IsQuietProbe(context, surface)))
            {
                WriteAccessLog(context, record);
            }
        }
    }

    private Task DispatchAsync(HttpContext context, string path, ApiSurface? surface, RequestRecord record, ProxySnapshot snapshot)
    {
        record.Endpoint = surface?.MetricLabel;
        if (surface is null || (surface.OnlyWhenMetricsServed && !_servesMetrics))
        {
            return ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, $"gollamas: no endpoint {context.Request.Method} {path}");
        }

        return surface.Allows(context.Request.Method)
            ? surface.Handler(endpoints, context, surface, record, snapshot)
            : MethodNotAllowed(context, surface.Allow);
    }

    /// <summary>
    /// Gives the request its id (<see cref="RequestId"/>): the client's <c>X-Request-Id</c> if it
    /// is sane, else a new one, which replaces the client's on the request so that Ollama gets
    /// the id the log and the client see. The answer carries it whatever it is, errors too.
    /// </summary>
    private static void SetRequestId(HttpContext context, RequestRecord record)
    {
        var headers = context.Request.Headers;
        var given = headers[ProxyHeaders.RequestId];
        string id;
        if (given.Count == 1 && RequestId.IsSane(given[0]))
        {
            id = given[0]!;
        }
        else
        {
            id = RequestId.Next();
            headers[ProxyHeaders.RequestId] = id;
        }

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

    private Task UnauthorizedAsync(HttpContext context)
    {
        Log.Unauthorized(_logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString() ?? "-");
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return ErrorWriter.WriteAsync(context, StatusCodes.Status401Unauthorized, "unauthorized: send a valid API key as 'Authorization: Bearer KEY'");
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
        [LoggerMessage(LogEventIds.Access, LogLevel.Information, "{Method} {Path} {Status} model={Model} resolved={Resolved} connection={Connection} bytes={Bytes} ttfb_ms={FirstByteMs:0.###} duration_ms={DurationMs:0.###} client={Client} id={RequestId}", EventName = "Access")]
        public static partial void Access(ILogger logger, string method, PathString path, int status, string model, string resolved, string connection, long bytes, double firstByteMs, double durationMs, string client, string requestId);

        [LoggerMessage(LogEventIds.Unauthorized, LogLevel.Warning, "Refused {Method} {Path} from {Client}: missing or wrong API key", EventName = "Unauthorized")]
        public static partial void Unauthorized(ILogger logger, string method, PathString path, string client);

        [LoggerMessage(LogEventIds.ForeignHost, LogLevel.Warning, "Refused {Method} {Path} for Host {Host} from {Client}: not a local name nor an --allowed-hosts one", EventName = "ForeignHost")]
        public static partial void ForeignHost(ILogger logger, string method, PathString path, string host, string client);

        [LoggerMessage(LogEventIds.UnexpectedError, LogLevel.Error, "Unexpected error on {Method} {Path}", EventName = "UnexpectedError")]
        public static partial void Unexpected(ILogger logger, string method, PathString path, Exception exception);
    }
}
