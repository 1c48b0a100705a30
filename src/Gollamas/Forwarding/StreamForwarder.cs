using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gollamas.Backends;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gollamas.Forwarding;

/// <summary>
/// Sends one client request to one backend and streams the answer back as it arrives.
/// The pipeline:
/// 1. build the upstream request: same method, path and query, end-to-end headers, the (possibly
///    spliced) body, the backend's own Host;
/// 2. send it with the client's abort token, so a client that leaves cancels the generation;
/// 3. before anything was written, a failure becomes a clean 502/504 in the path's error shape;
/// 4. copy status and end-to-end headers, disable response buffering;
/// 5. pump the body: wait for data with a zero-byte read (no buffer held by an idle stream), read
///    straight into the response pipe's memory, flush each read, so every chunk leaves at once;
/// 6. if the upstream breaks after the response started, end NDJSON and SSE streams with one
///    in-band error record in their own framing; abort anything else.
/// </summary>
internal sealed partial class StreamForwarder(ILogger<StreamForwarder> logger)
{
    // Large enough for a typical chunk, small next to the response pipe's segment size.
    private const int MinReadSize = 4096;

    private readonly ILogger _logger = logger;

    /// <summary>
    /// Forwards the current request to <paramref name="backend"/> with <paramref name="content"/>
    /// as its body (null for none) and writes the answer, or an error, to the client.
    /// </summary>
    public async Task<ForwardOutcome> ForwardAsync(HttpContext context, Backend backend, HttpContent? content)
    {
        var started = Stopwatch.GetTimestamp();
        var aborted = context.RequestAborted;
        using var request = CreateRequest(context, backend, content);

        backend.OnRequestStarted();
        HttpResponseMessage? response = null;
        try
        {
            try
            {
                response = await backend.Invoker.SendAsync(request, aborted);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                return await FailBeforeResponseAsync(context, backend, ex);
            }

            var outcome = await CopyResponseAsync(context, backend, response);
            Log.Forwarded(_logger, context.Request.Method, context.Request.Path, backend.DisplayName, (int)response.StatusCode, outcome, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return outcome;
        }
        finally
        {
            response?.Dispose();
            backend.OnRequestEnded();
        }
    }

    private static HttpRequestMessage CreateRequest(HttpContext context, Backend backend, HttpContent? content)
    {
        var incoming = context.Request;
        var request = new HttpRequestMessage(HttpMethodFor(incoming.Method), backend.CreateUri(incoming.Path.Value!, incoming.QueryString.Value))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = content,
        };

        foreach (var (name, values) in incoming.Headers)
        {
            if (!HeaderFilter.IsForwardedRequestHeader(name))
            {
                continue;
            }

            HttpHeaders target = content is not null && IsContentHeader(name) ? content.Headers : request.Headers;
            if (values.Count == 1)
            {
                target.TryAddWithoutValidation(name, values.ToString());
            }
            else
            {
                target.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        return request;
    }

    private async Task<ForwardOutcome> FailBeforeResponseAsync(HttpContext context, Backend backend, Exception ex)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            Log.ClientAborted(_logger, context.Request.Path, backend.DisplayName);
            return ForwardOutcome.ClientAborted;
        }

        var timedOut = ex is OperationCanceledException || ex.InnerException is TimeoutException;
        var reason = Describe(ex);
        Log.BackendFailed(_logger, backend.DisplayName, context.Request.Path, reason);
        if (timedOut)
        {
            await ErrorWriter.WriteAsync(context, StatusCodes.Status504GatewayTimeout, $"gollamas: Ollama server {backend.DisplayName} timed out: {reason}");
            return ForwardOutcome.BackendTimedOut;
        }

        await ErrorWriter.WriteAsync(context, StatusCodes.Status502BadGateway, $"gollamas: Ollama server {backend.DisplayName} is unreachable: {reason}");
        return ForwardOutcome.BackendUnreachable;
    }

    private async Task<ForwardOutcome> CopyResponseAsync(HttpContext context, Backend backend, HttpResponseMessage upstream)
    {
        var response = context.Response;
        response.StatusCode = (int)upstream.StatusCode;
        CopyHeaders(upstream.Headers, response.Headers);
        CopyHeaders(upstream.Content.Headers, response.Headers);
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var aborted = context.RequestAborted;
        var writer = response.BodyWriter;
        Stream? body = null;
        var tail = new StreamTail();
        try
        {
            body = await upstream.Content.ReadAsStreamAsync(aborted);
            while (true)
            {
                // Wait for data without holding memory: a thousand slow generations then pin no
                // buffers while they think.
                _ = await body.ReadAsync(Memory<byte>.Empty, aborted);

                var memory = writer.GetMemory(MinReadSize);
                var read = await body.ReadAsync(memory, aborted);
                if (read == 0)
                {
                    break;
                }

                tail.Update(memory.Span[..read]);
                writer.Advance(read);
                var flushed = await writer.FlushAsync(aborted);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    return ClientGone(context, backend);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
        {
            if (aborted.IsCancellationRequested)
            {
                return ClientGone(context, backend);
            }

            Log.StreamBroken(_logger, backend.DisplayName, context.Request.Path, Describe(ex));
            await EndWithInBandErrorAsync(context, backend, tail, ex);
            return ForwardOutcome.BackendStreamBroken;
        }
        finally
        {
            if (body is not null)
            {
                await body.DisposeAsync();
            }
        }

        return ForwardOutcome.Success;
    }

    private ForwardOutcome ClientGone(HttpContext context, Backend backend)
    {
        Log.ClientAborted(_logger, context.Request.Path, backend.DisplayName);
        return ForwardOutcome.ClientAborted;
    }

    /// <summary>
    /// The status is already sent, so the failure goes into the stream in its own framing:
    /// one NDJSON line <c>{"error":…}</c> (what Ollama itself writes), or one SSE data event with
    /// the OpenAI error envelope. Other bodies cannot carry it and are aborted, so the client
    /// sees a broken response rather than a silently short one.
    /// </summary>
    private static async Task EndWithInBandErrorAsync(HttpContext context, Backend backend, StreamTail tail, Exception ex)
    {
        var response = context.Response;
        var contentType = response.ContentType ?? string.Empty;
        var isNdjson = contentType.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase);
        var isSse = contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
        if ((!isNdjson && !isSse) || response.ContentLength is not null)
        {
            context.Abort();
            return;
        }

        var message = $"gollamas: the stream from Ollama server {backend.DisplayName} broke: {Describe(ex)}";
        var writer = response.BodyWriter;
        if (isNdjson)
        {
            if (!tail.EndsWithNewLine)
            {
                writer.Write("\n"u8);
            }

            using (var json = new Utf8JsonWriter(writer, JsonWriting.Options))
            {
                json.WriteStartObject();
                json.WriteString(JsonNames.Error, message);
                json.WriteEndObject();
            }

            writer.Write("\n"u8);
        }
        else
        {
            writer.Write(tail.EndsWithBlankLine ? "data: "u8 : tail.EndsWithNewLine ? "\ndata: "u8 : "\n\ndata: "u8);
            using (var json = new Utf8JsonWriter(writer, JsonWriting.Options))
            {
                ErrorWriter.WriteOpenAiEnvelope(json, StatusCodes.Status502BadGateway, message);
            }

            writer.Write("\n\n"u8);
        }

        try
        {
            await writer.FlushAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client left while we were telling it why; nothing more to do.
        }
    }

    private static void CopyHeaders(HttpHeaders source, IHeaderDictionary target)
    {
        foreach (var (name, values) in source.NonValidated)
        {
            if (!HeaderFilter.IsForwardedResponseHeader(name))
            {
                continue;
            }

            if (values.Count == 1)
            {
                target[name] = values.ToString();
            }
            else
            {
                var all = new string[values.Count];
                var i = 0;
                foreach (var value in values)
                {
                    all[i++] = value;
                }

                target[name] = new StringValues(all);
            }
        }
    }

    private static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Expires", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Last-Modified", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Allow", StringComparison.OrdinalIgnoreCase);

    private static HttpMethod HttpMethodFor(string method) => method switch
    {
        "GET" => HttpMethod.Get,
        "POST" => HttpMethod.Post,
        "HEAD" => HttpMethod.Head,
        "DELETE" => HttpMethod.Delete,
        "PUT" => HttpMethod.Put,
        _ => new HttpMethod(method),
    };

    /// <summary>The innermost message, which names the real cause (refused, reset, timed out).</summary>
    internal static string Describe(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner is TimeoutException or OperationCanceledException && ex is not HttpRequestException
            ? "no answer in time"
            : inner.Message;
    }

    /// <summary>The last two bytes written, to start the in-band error on a fresh line or event.</summary>
    private struct StreamTail
    {
        private byte _last;
        private byte _beforeLast;
        private bool _any;

        public readonly bool EndsWithNewLine => !_any || _last == (byte)'\n';

        public readonly bool EndsWithBlankLine => !_any || (_last == (byte)'\n' && _beforeLast == (byte)'\n');

        public void Update(ReadOnlySpan<byte> written)
        {
            _any = true;
            _beforeLast = written.Length > 1 ? written[^2] : _last;
            _last = written[^1];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.Forwarded, LogLevel.Debug, "{Method} {Path} -> {Backend}: {Status} {Outcome} in {ElapsedMs:0.0} ms", EventName = "Forwarded")]
        public static partial void Forwarded(ILogger logger, string method, PathString path, string backend, int status, ForwardOutcome outcome, double elapsedMs);

        [LoggerMessage(LogEventIds.BackendFailed, LogLevel.Warning, "Ollama server {Backend} failed for {Path}: {Reason}", EventName = "BackendFailed")]
        public static partial void BackendFailed(ILogger logger, string backend, PathString path, string reason);

        [LoggerMessage(LogEventIds.StreamBroken, LogLevel.Warning, "Stream from Ollama server {Backend} for {Path} broke mid-way: {Reason}", EventName = "StreamBroken")]
        public static partial void StreamBroken(ILogger logger, string backend, PathString path, string reason);

        [LoggerMessage(LogEventIds.ClientAborted, LogLevel.Debug, "Client left {Path}; request to {Backend} cancelled", EventName = "ClientAborted")]
        public static partial void ClientAborted(ILogger logger, PathString path, string backend);
    }
}
