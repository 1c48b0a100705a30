using System.Collections.Frozen;
using System.Diagnostics;
using System.Text;
using Gollamas.Backends;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Endpoints;
using Gollamas.Errors;
using Gollamas.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gollamas.Routing;

/// <summary>
/// The single terminal request delegate: the Host check, CORS and API keys, then method + exact path to an endpoint; anything
/// else gets a JSON 404 (unknown path) or 405 (known path, wrong method). One last-chance catch
/// turns the unexpected into a 500 without a stack trace reaching the client. Each request reads
/// the current <see cref="ProxySnapshot"/> once, here, and every endpoint serves it from that one.
/// </summary>
internal sealed partial class RequestDispatcher(
    HostAllowList hosts,
    ProxySnapshotHolder snapshots,
    ModelEndpoints models,
    ListEndpoints lists,
    VersionEndpoint version,
    ProbeEndpoints probes,
    ApiKeys apiKeys,
    ProxyMetrics metrics,
    MetricsOptions metricsOptions,
    ServerRegistry servers,
    bool accessLog,
    ILogger<RequestDispatcher> logger)
{
    private const string ModelsPrefix = "/v1/models/";

    // Paths that are metric labels as they are; any other path counts as "other".
    private static readonly FrozenSet<string> s_endpoints = new[]
    {
        "/", "/healthz", "/readyz", "/metrics", "/api/version", "/api/tags", "/api/ps", "/v1/models",
        "/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/api/show", "/api/pull",
        "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/messages", "/v1/audio/transcriptions",
        "/api/create", "/api/push", "/api/copy", "/api/delete",
    }.ToFrozenSet(StringComparer.Ordinal);
    private const string BlobsPrefix = "/api/blobs/";

    private readonly ILogger _logger = logger;

    public async Task InvokeAsync(HttpContext context)
    {
        var record = new RequestRecord { WantsRequestedModel = accessLog };
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
            if (!hosts.AllowsAll && IsHostCheckedConnection(context) && !hosts.IsAllowed(context.Request.Host.Value))
            {
                await ForeignHostAsync(context);
                return;
            }

            if (metricsOptions.Listen is not null && IsMetricsConnection(context))
            {
                // The separate metrics address serves /metrics and nothing else, without a key.
                record.Endpoint = "/metrics";
                await (context.Request.Path.Value == "/metrics" && HttpMethods.IsGet(context.Request.Method)
                    ? WriteMetricsAsync(context)
                    : ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, "gollamas: this address serves only GET /metrics"));
                return;
            }

            var snapshot = snapshots.Current;
            if (snapshot.Cors.TryAnswer(context))
            {
                return;
            }

            if (!apiKeys.IsAuthorized(context.Request) && !IsProbe(context.Request.Path))
            {
                await UnauthorizedAsync(context);
                return;
            }

            await DispatchAsync(context, record, snapshot);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own limits and framing checks: body too large, truncated or malformed chunks.
            if (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                await ErrorWriter.WriteAsync(context, ex.StatusCode, ex.Message);
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
                await ErrorWriter.WriteAsync(context, StatusCodes.Status500InternalServerError, "gollamas: internal error");
            }
        }
        finally
        {
            metrics.RecordRequest(record, context.Response.StatusCode);
            if (accessLog && _logger.IsEnabled(LogLevel.Information))
            {
                WriteAccessLog(context, record);
            }
        }
    }

    private Task DispatchAsync(HttpContext context, RequestRecord record, ProxySnapshot snapshot)
    {
        var method = context.Request.Method;
        var path = context.Request.Path.Value ?? "/";
        record.Endpoint = s_endpoints.Contains(path) ? path : null;
        switch (path)
        {
            case "/metrics" when metricsOptions.Enabled && metricsOptions.Listen is null:
                return HttpMethods.IsGet(method) ? WriteMetricsAsync(context) : MethodNotAllowed(context, "GET");
            case "/":
                return IsGetOrHead(method) ? RootEndpoint.HandleAsync(context) : MethodNotAllowed(context, "GET, HEAD");
            case "/healthz":
                return IsGetOrHead(method) ? ProbeEndpoints.HealthzAsync(context) : MethodNotAllowed(context, "GET, HEAD");
            case "/readyz":
                return IsGetOrHead(method) ? probes.ReadyzAsync(context) : MethodNotAllowed(context, "GET, HEAD");
            case "/api/version":
                return IsGetOrHead(method) ? version.HandleAsync(context, snapshot) : MethodNotAllowed(context, "GET, HEAD");
            case "/api/tags":
                return IsGetOrHead(method) ? lists.TagsAsync(context, snapshot) : MethodNotAllowed(context, "GET, HEAD");
            case "/api/ps":
                return HttpMethods.IsGet(method) ? lists.PsAsync(context, snapshot) : MethodNotAllowed(context, "GET");
            case "/v1/models":
                return HttpMethods.IsGet(method) ? lists.OpenAiModelsAsync(context, snapshot) : MethodNotAllowed(context, "GET");
            case "/api/chat":
            case "/api/generate":
            case "/api/embed":
            case "/api/embeddings":
                return HttpMethods.IsPost(method) ? models.HandleAsync(context, ModelRequestKind.Native, record, snapshot) : MethodNotAllowed(context, "POST");
            case "/v1/chat/completions":
            case "/v1/completions":
            case "/v1/embeddings":
                return HttpMethods.IsPost(method) ? models.HandleAsync(context, ModelRequestKind.OpenAi, record, snapshot) : MethodNotAllowed(context, "POST");
            case "/v1/responses":
                return HttpMethods.IsPost(method) ? models.HandleAsync(context, ModelRequestKind.OpenAiResponses, record, snapshot) : MethodNotAllowed(context, "POST");
            case "/v1/messages":
                return HttpMethods.IsPost(method) ? models.HandleAsync(context, ModelRequestKind.Anthropic, record, snapshot) : MethodNotAllowed(context, "POST");
            case "/v1/audio/transcriptions":
                return HttpMethods.IsPost(method) ? models.HandleAsync(context, ModelRequestKind.OpenAiForm, record, snapshot) : MethodNotAllowed(context, "POST");
            case "/api/show":
            case "/api/pull":
                return HttpMethods.IsPost(method) ? models.HandleAsync(context, ModelRequestKind.Catalog, record, snapshot) : MethodNotAllowed(context, "POST");
            case "/api/create":
                return HttpMethods.IsPost(method) ? UnsupportedEndpoints.RefuseAsync(context, "creating models") : MethodNotAllowed(context, "POST");
            case "/api/push":
                return HttpMethods.IsPost(method) ? UnsupportedEndpoints.RefuseAsync(context, "pushing models") : MethodNotAllowed(context, "POST");
            case "/api/copy":
                return HttpMethods.IsPost(method) ? UnsupportedEndpoints.RefuseAsync(context, "copying models") : MethodNotAllowed(context, "POST");
            case "/api/delete":
                return HttpMethods.IsDelete(method) ? UnsupportedEndpoints.RefuseAsync(context, "deleting models") : MethodNotAllowed(context, "DELETE");
        }

        if (path.StartsWith(BlobsPrefix, StringComparison.Ordinal) && path.Length > BlobsPrefix.Length)
        {
            record.Endpoint = "/api/blobs/{digest}";
            return HttpMethods.IsHead(method) || HttpMethods.IsPost(method)
                ? UnsupportedEndpoints.RefuseAsync(context, "blobs")
                : MethodNotAllowed(context, "HEAD, POST");
        }

        if (path.StartsWith(ModelsPrefix, StringComparison.Ordinal)
            && path.Length > ModelsPrefix.Length
            && path.IndexOf('/', ModelsPrefix.Length) < 0)
        {
            record.Endpoint = "/v1/models/{model}";
            return HttpMethods.IsGet(method)
                ? lists.OpenAiModelAsync(context, path[ModelsPrefix.Length..], snapshot)
                : MethodNotAllowed(context, "GET");
        }

        return ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, $"gollamas: no endpoint {method} {path}");
    }

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
            context.Connection.RemoteIpAddress?.ToString() ?? "-");
    }

    private async Task WriteMetricsAsync(HttpContext context)
    {
        var text = new StringBuilder(4096);
        metrics.WriteTo(text, servers.Active);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        var body = Encoding.UTF8.GetBytes(text.ToString());
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>Marks connections accepted on the separate metrics address (a connection middleware sets it).</summary>
    public const string MetricsConnectionKey = "gollamas.metrics";

    private static bool IsMetricsConnection(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items.ContainsKey(MetricsConnectionKey) == true;

    /// <summary>Marks connections accepted on a loopback address, whose Host is checked (a connection middleware sets it).</summary>
    public const string HostCheckedConnectionKey = "gollamas.host-checked";

    private static bool IsHostCheckedConnection(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>()?.Items.ContainsKey(HostCheckedConnectionKey) == true;

    private Task ForeignHostAsync(HttpContext context)
    {
        Log.ForeignHost(_logger, context.Request.Method, context.Request.Path, context.Request.Host.Value ?? "", context.Connection.RemoteIpAddress?.ToString() ?? "-");
        return ErrorWriter.WriteAsync(
            context,
            StatusCodes.Status403Forbidden,
            "forbidden: this server answers only its local names; start gollamas with --allowed-hosts NAME to serve another");
    }

    // Kubernetes probes carry no key.
    private static bool IsProbe(PathString path) => path.Value is "/healthz" or "/readyz";

    private Task UnauthorizedAsync(HttpContext context)
    {
        Log.Unauthorized(_logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString() ?? "-");
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return ErrorWriter.WriteAsync(context, StatusCodes.Status401Unauthorized, "unauthorized: send a valid API key as 'Authorization: Bearer KEY'");
    }

    private static bool IsGetOrHead(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    private static Task MethodNotAllowed(HttpContext context, string allow)
    {
        context.Response.Headers.Allow = allow;
        return ErrorWriter.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, $"method {context.Request.Method} not allowed on {context.Request.Path}");
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.Access, LogLevel.Information, "{Method} {Path} {Status} model={Model} resolved={Resolved} connection={Connection} bytes={Bytes} ttfb_ms={FirstByteMs:0.###} duration_ms={DurationMs:0.###} client={Client}", EventName = "Access")]
        public static partial void Access(ILogger logger, string method, PathString path, int status, string model, string resolved, string connection, long bytes, double firstByteMs, double durationMs, string client);

        [LoggerMessage(LogEventIds.Unauthorized, LogLevel.Warning, "Refused {Method} {Path} from {Client}: missing or wrong API key", EventName = "Unauthorized")]
        public static partial void Unauthorized(ILogger logger, string method, PathString path, string client);

        [LoggerMessage(LogEventIds.ForeignHost, LogLevel.Warning, "Refused {Method} {Path} for Host {Host} from {Client}: not a local name nor an --allowed-hosts one", EventName = "ForeignHost")]
        public static partial void ForeignHost(ILogger logger, string method, PathString path, string host, string client);

        [LoggerMessage(LogEventIds.UnexpectedError, LogLevel.Error, "Unexpected error on {Method} {Path}", EventName = "UnexpectedError")]
        public static partial void Unexpected(ILogger logger, string method, PathString path, Exception exception);
    }
}
