using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gollamas.Bench.Load;

/// <summary>
/// The fast fake Ollama server the load run measures everything against: raw Kestrel, one
/// terminal delegate, no logging, every response body precomputed. It must never be the
/// bottleneck, so it does the least a server can do: read and discard the body, write bytes.
/// <list type="bullet">
/// <item>POST /api/embed, /api/show: a small JSON answer with Content-Length;</item>
/// <item>POST /api/chat: an NDJSON stream, chunked, each line written and flushed on its own;
/// the body says how many lines and how far apart (<see cref="StreamShape"/>), because the
/// proxy forwards the body untouched but owns the URL's meaning;</item>
/// <item>GET /, /api/version: Ollama's liveness text and a version.</item>
/// </list>
/// With <c>--send-per-chunk</c> every flushed line leaves in its own send, as from Ollama.
/// </summary>
internal static class FastBackend
{
    private const long LargeBody = 1024 * 1024;

    private static readonly byte[] s_embed =
        """{"model":"bench-small","embeddings":[[0.010071029,-0.0017594862,0.05007221,0.04692972]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"""u8.ToArray();

    private static readonly byte[] s_version = """{"version":"0.12.6"}"""u8.ToArray();
    private static readonly byte[] s_running = "Ollama is running"u8.ToArray();

    // About the size of a real one-token chat chunk (Ollama writes one JSON line per token).
    private static readonly byte[] s_chunk =
        """{"model":"bench-stream","created_at":"2025-11-25T10:00:00.000000000Z","message":{"role":"assistant","content":"token "},"done":false}"""u8.ToArray().Append((byte)'\n').ToArray();

    private static readonly byte[] s_lastChunk =
        """{"model":"bench-stream","created_at":"2025-11-25T10:00:00.000000000Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":1,"eval_count":500}"""u8.ToArray().Append((byte)'\n').ToArray();

    public static async Task<int> RunAsync(string[] args)
    {
        var sendPerChunk = args.Length == 3 && args[2] == "--send-per-chunk";
        if (args.Length is < 2 or > 3 || args[0] != "--port" || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var port)
            || (args.Length == 3 && !sendPerChunk))
        {
            await Console.Error.WriteLineAsync("usage: Gollamas.Bench backend --port N [--send-per-chunk]");
            return 2;
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = null;
            kestrel.Limits.MaxConcurrentUpgradedConnections = null;

            // A slow stream sends 150 B per 100 ms; do not let the rate guards judge the bench.
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, port);
        });

        // The proxies open up to 1000 upstream connections at once in the slow-stream scenario.
        builder.Services.Configure<SocketTransportOptions>(static o => o.Backlog = 4096);
        if (sendPerChunk)
        {
            // Kestrel's socket loop runs on the thread pool and gathers every flush made since its
            // last send: 501 flushed lines left in about 2 sends of 67 KB (strace). Ollama's Go
            // server makes one write per token, so a proxy sees lines one by one. Running the send
            // loop inline makes each flush its own send (502 sends per stream, strace). It costs
            // small requests dearly (p99 0.3 s at 32 connections), hence a backend of its own.
            builder.Services.Configure<SocketTransportOptions>(static o => o.UnsafePreferInlineScheduling = true);
        }

        var app = builder.Build();
        app.Run(HandleAsync);
        await app.RunAsync();
        return 0;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        {
            var body = request.Path.Value == "/api/version" ? s_version : s_running;
            response.ContentType = body == s_version ? "application/json; charset=utf-8" : "text/plain; charset=utf-8";
            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body);
            return;
        }

        switch (request.Path.Value)
        {
            case "/api/embed":
            case "/api/show":
                await DrainAsync(request.BodyReader);
                response.ContentType = "application/json; charset=utf-8";
                response.ContentLength = s_embed.Length;
                await response.BodyWriter.WriteAsync(s_embed);
                return;
            case "/api/chat" when request.ContentLength > LargeBody:
                // A chat with a large image (the large-body scenario): read it to its end, answer in one line.
                await DrainAsync(request.BodyReader);
                response.ContentType = "application/json; charset=utf-8";
                response.ContentLength = s_lastChunk.Length;
                await response.BodyWriter.WriteAsync(s_lastChunk);
                return;
            case "/api/chat":
                await StreamAsync(context, await ReadShapeAsync(request.BodyReader));
                return;
            default:
                await DrainAsync(request.BodyReader);
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
        }
    }

    private static async Task StreamAsync(HttpContext context, StreamShape shape)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        response.ContentType = "application/x-ndjson";
        var writer = response.BodyWriter;
        try
        {
            for (var i = 1; i < shape.Chunks; i++)
            {
                // PipeWriter.WriteAsync flushes: one chunk per write, as Ollama sends tokens.
                var result = await writer.WriteAsync(s_chunk, aborted);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }

                if (shape.DelayMs > 0)
                {
                    await Task.Delay(shape.DelayMs, aborted);
                }
            }

            await writer.WriteAsync(s_lastChunk, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client (or the proxy for it) went away mid-stream: nothing to report.
        }
    }

    private static async Task DrainAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private static async Task<StreamShape> ReadShapeAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            if (result.IsCompleted)
            {
                var shape = StreamShape.Parse(result.Buffer);
                reader.AdvanceTo(result.Buffer.End);
                return shape;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
