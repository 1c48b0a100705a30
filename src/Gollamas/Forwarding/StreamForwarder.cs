using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Gollamas.Bodies;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Json;
using Gollamas.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gollamas.Forwarding;

/// <summary>
/// Sends one client request to one connection and streams the answer back as it arrives.
/// The pipeline:
/// 1. take a keep-alive channel from the connection's pool (or connect, bounded by the connect
///    timeout), write the request head (same method, path and query, end-to-end headers, the
///    connection's fixed Host and credential lines) and the (possibly spliced) body in one write when small;
/// 2. read the response head under the client's abort token, so a client that leaves cancels
///    the generation; a reused channel the server had closed is retried once on a new one;
/// 3. before anything was written, a failure becomes a clean 502/504 in the path's error shape;
/// 4. copy status and end-to-end headers, disable response buffering;
/// 5. pump the body: wait for data with a zero-byte read (no buffer held by an idle stream), read
///    it de-framed straight into the response pipe's memory, flush each read, so every chunk
///    leaves at once and none allocates;
/// 6. if the upstream breaks after the response started, end NDJSON and SSE streams with one
///    in-band error record in their own framing; abort anything else.
/// </summary>
/// <param name="lifecycle">The drain deadline every request watches.</param>
/// <param name="logger">Where forwarding is logged.</param>
internal sealed partial class StreamForwarder(ProxyLifecycle lifecycle, ILogger<StreamForwarder> logger)
{
    // Large enough for a typical chunk, small next to the response pipe's segment size.
    private const int MinReadSize = 4096;

    private readonly ILogger _logger = logger;

    /// <summary>
    /// Forwards the current request to <paramref name="connection"/> with <paramref name="body"/>
    /// and writes the answer, or an error, to the client, as <paramref name="policy"/> (the
    /// request's snapshot) says. With <paramref name="canFailOver"/>,
    /// a failure before any byte reached the client (no connection, no answer, or a 5xx/429
    /// answer) writes nothing and returns <see cref="ForwardOutcome.BackendUnreachable"/>,
    /// <see cref="ForwardOutcome.BackendTimedOut"/> or <see cref="ForwardOutcome.BackendRefused"/>,
    /// so the caller can send the same body to the next route.
    /// </summary>
    public async Task<ForwardOutcome> ForwardAsync(HttpContext context, Connection connection, ForwardBody body, ForwardPolicy policy, RequestRecord record, bool canFailOver = false)
    {
        var started = Stopwatch.GetTimestamp();
        using var watch = new UpstreamWatch(policy.IdleTimeout, context.RequestAborted, lifecycle.DrainDeadline);
        var isHead = HttpMethods.IsHead(context.Request.Method);
        // To a server whose URL carries credentials the proxy sends those (in its FixedRequestHeaders
        // lines), never the client's as well: one Authorization field, the operator's.
        var head = RequestHeadWriter.RentForwarded(context.Request, connection, body.Length, policy.StripAuthorization || connection.SendsCredentials, record.Id, out var headLength);
        UpstreamChannel? channel = null;
        connection.OnRequestStarted();
        try
        {
            UpstreamResponseHead response;
            try
            {
                (channel, response) = await connection.Pool.SendAsync(head.AsMemory(0, headLength), body, isHead, watch.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or OperationCanceledException)
            {
                return await FailBeforeResponseAsync(context, connection, ex, watch, canFailOver);
            }
            finally
            {
                RequestHeadWriter.Return(head);
            }

            if (canFailOver && (response.StatusCode >= StatusCodes.Status500InternalServerError || response.StatusCode == StatusCodes.Status429TooManyRequests))
            {
                // Overloaded or failing (Ollama's queue is full, the runner crashed): the next
                // route may serve it. The answer is dropped with its connection.
                Log.BackendRefused(_logger, connection.DisplayName, context.Request.Path, response.StatusCode);
                return ForwardOutcome.BackendRefused;
            }

            var outcome = await CopyResponseAsync(context, connection, channel, response, watch, record);
            if (outcome == ForwardOutcome.Success)
            {
                connection.Pool.Return(channel);
                channel = null;
            }

            Log.Forwarded(_logger, context.Request.Method, context.Request.Path, connection.DisplayName, response.StatusCode, outcome, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return outcome;
        }
        finally
        {
            // Anything but a complete response closes the connection: that is also how the
            // server learns that the client left and stops generating.
            channel?.Dispose();
            connection.OnRequestEnded();
        }
    }

    private async Task<ForwardOutcome> FailBeforeResponseAsync(HttpContext context, Connection connection, Exception ex, UpstreamWatch watch, bool canFailOver)
    {
        if (watch.ClientLeft)
        {
            Log.ClientAborted(_logger, context.Request.Path, connection.DisplayName);
            return ForwardOutcome.ClientAborted;
        }

        if (watch.ShuttingDown)
        {
            context.Response.Headers.RetryAfter = "1";
            await ErrorWriter.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "gollamas is shutting down: the request did not finish within the drain timeout");
            return ForwardOutcome.ShuttingDown;
        }

        var failure = UpstreamFailure.From(ex, watch.WentSilent ? $"no answer within {GoDuration.Format(watch.IdleTimeout)}" : null);
        Log.BackendFailed(_logger, connection.DisplayName, context.Request.Path, failure.Reason);
        if (!canFailOver)
        {
            await ErrorWriter.WriteAsync(context, failure.StatusCode, failure.MessageFor(connection.PublicName));
        }

        return failure.TimedOut ? ForwardOutcome.BackendTimedOut : ForwardOutcome.BackendUnreachable;
    }

    private async Task<ForwardOutcome> CopyResponseAsync(HttpContext context, Connection connection, UpstreamChannel upstream, UpstreamResponseHead head, UpstreamWatch watch, RequestRecord record)
    {
        record.FirstByte = Stopwatch.GetTimestamp();
        record.BytesOut = 0;
        var response = context.Response;
        response.StatusCode = head.StatusCode;
        foreach (var (name, value) in head.Headers)
        {
            if (HeaderFilter.IsForwardedResponseHeader(name) && !HeaderFilter.IsNamedIn(head.ConnectionList, name))
            {
                response.Headers.Append(name, value);
            }
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var cancellation = watch.Token;
        var writer = response.BodyWriter;
        var tail = new StreamTail();

        // A streamed generation: its first body bytes bring its first token (RequestRecord.TimeToFirstToken).
        var awaitingFirstToken = record.TokenCounts != TokenCounts.None && head.StatusCode is >= 200 and < 300 && IsStreamed(response.ContentType);
        try
        {
            while (true)
            {
                // Wait for data without holding memory: a thousand slow generations then pin no
                // buffers while they think.
                await upstream.WaitForDataAsync(cancellation);

                var memory = writer.GetMemory(MinReadSize);
                var read = await upstream.ReadBodyAsync(memory, cancellation);
                if (read == 0)
                {
                    break;
                }

                watch.Touch();
                if (awaitingFirstToken)
                {
                    record.FirstToken = Stopwatch.GetTimestamp();
                    awaitingFirstToken = false;
                }

                record.BytesOut += read;
                ProxyMetrics.ReadTokens(memory.Span[..read], record);
                tail.Update(memory.Span[..read]);
                writer.Advance(read);
                var flushed = await writer.FlushAsync(cancellation);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    return ClientGone(context, connection);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (watch.ClientLeft)
            {
                return ClientGone(context, connection);
            }

            if (watch.ShuttingDown)
            {
                await EndWithInBandErrorAsync(context, tail, "gollamas is shutting down: the stream was cut at the end of the drain timeout");
                return ForwardOutcome.ShuttingDown;
            }

            var reason = watch.WentSilent ? $"nothing for {GoDuration.Format(watch.IdleTimeout)}" : UpstreamFailure.Describe(ex);
            Log.StreamBroken(_logger, connection.DisplayName, context.Request.Path, reason);
            await EndWithInBandErrorAsync(context, tail, UpstreamFailure.StreamBrokenMessage(connection.PublicName, reason));
            return ForwardOutcome.BackendStreamBroken;
        }

        return ForwardOutcome.Success;
    }

    private ForwardOutcome ClientGone(HttpContext context, Connection connection)
    {
        Log.ClientAborted(_logger, context.Request.Path, connection.DisplayName);
        return ForwardOutcome.ClientAborted;
    }

    /// <summary>
    /// The status is already sent, so the failure goes into the stream in its own framing:
    /// one NDJSON line <c>{"error":…}</c> (what Ollama itself writes), or one SSE error event in
    /// the path's own shape (<see cref="ErrorWriter.WriteSseErrorEvent"/>). Other bodies cannot carry it and are
    /// aborted, so the client sees a broken response rather than a silently short one.
    /// </summary>
    private static async Task EndWithInBandErrorAsync(HttpContext context, StreamTail tail, string message)
    {
        var response = context.Response;
        var contentType = response.ContentType ?? string.Empty;
        var isNdjson = IsNdjson(contentType);
        var isSse = IsSse(contentType);
        if ((!isNdjson && !isSse) || response.ContentLength is not null)
        {
            context.Abort();
            return;
        }

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
            if (!tail.EndsWithBlankLine)
            {
                writer.Write(tail.EndsWithNewLine ? "\n"u8 : "\n\n"u8);
            }

            ErrorWriter.WriteSseErrorEvent(writer, context, StatusCodes.Status502BadGateway, message);
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

    private static bool IsNdjson(string contentType) => contentType.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase);

    private static bool IsSse(string contentType) => contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether an answer streams in records: NDJSON (Ollama's API) or server-sent events (the OpenAI and Anthropic ones).</summary>
    private static bool IsStreamed(string? contentType) => contentType is not null && (IsNdjson(contentType) || IsSse(contentType));

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

        [LoggerMessage(LogEventIds.BackendRefused, LogLevel.Warning, "Ollama server {Backend} answered {Path} with {Status}; trying the next route", EventName = "BackendRefused")]
        public static partial void BackendRefused(ILogger logger, string backend, PathString path, int status);

        [LoggerMessage(LogEventIds.StreamBroken, LogLevel.Warning, "Stream from Ollama server {Backend} for {Path} broke mid-way: {Reason}", EventName = "StreamBroken")]
        public static partial void StreamBroken(ILogger logger, string backend, PathString path, string reason);

        [LoggerMessage(LogEventIds.ClientAborted, LogLevel.Debug, "Client left {Path}; request to {Backend} cancelled", EventName = "ClientAborted")]
        public static partial void ClientAborted(ILogger logger, PathString path, string backend);
    }
}
