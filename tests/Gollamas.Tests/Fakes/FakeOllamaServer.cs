using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gollamas.Tests.Fakes;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (port 0) that answers enough of the Ollama API for the proxy to
/// route to, and records every request it received. Defaults follow docs/ollama-api.md; <see cref="Map"/>
/// and <see cref="MapScript"/> override one method + path. Streams are written and flushed one chunk at a time.
/// </summary>
public sealed class FakeOllamaServer : IAsyncDisposable
{
    private const string JsonContentType = "application/json; charset=utf-8";
    private const string OpenAiJsonContentType = "application/json";
    private const string TextContentType = "text/plain; charset=utf-8";
    private const string NdjsonContentType = "application/x-ndjson";
    private const string SseContentType = "text/event-stream";

    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<(string Method, string Path), Func<HttpContext, RecordedRequest, Task>> _handlers = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<(Func<RecordedRequest, bool> Predicate, TaskCompletionSource<RecordedRequest> Signal)> _waiters = [];
    private readonly Lock _lock = new();
    private int _disposed;

    private FakeOllamaServer(string name, WebApplication app)
    {
        Name = name;
        _app = app;
        BaseUri = null!;
    }

    public string Name { get; }

    /// <summary>The bound address with a trailing slash, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUri { get; private set; }

    /// <summary>Answer of <c>/api/version</c>.</summary>
    public string Version { get; set; } = "0.9.6";

    /// <summary>Entries of <c>/api/tags</c>; also the source of <c>/api/show</c>'s <c>modified_at</c>.</summary>
    public List<FakeModel> Models { get; set; } = [];

    /// <summary>Entries of <c>/api/ps</c>.</summary>
    public List<FakeModel> Running { get; set; } = [];

    /// <summary>Model strings (compared exactly as sent) that model-addressed endpoints answer 404 for.</summary>
    public ISet<string> UnknownModels { get; set; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>When true every model-addressed request is answered 404 "model not found".</summary>
    public bool RejectAllModels { get; set; }

    /// <summary>Number of content chunks before the final <c>done:true</c> chunk of default streams.</summary>
    public int ChunkCount { get; set; } = 3;

    /// <summary>A thread-safe snapshot of every request received so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <param name="name">What its answers call it.</param>
    /// <param name="certificate">When given, it speaks HTTPS with this certificate.</param>
    public static async Task<FakeOllamaServer> StartAsync(string name = "fake", System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(options =>
        {
            // Ollama (Go net/http) sends no Server header; neither should its stand-in.
            options.AddServerHeader = false;
            options.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        var app = builder.Build();

        var server = new FakeOllamaServer(name, app);
        app.Run(server.HandleAsync);
        await app.StartAsync();

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("Kestrel exposes no server addresses feature.");
        server.BaseUri = new Uri(addresses.Addresses.Single().TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Answers <paramref name="method"/> <paramref name="path"/> with <paramref name="handler"/> instead of the default.</summary>
    /// <remarks>The handler runs after the request body was read and recorded; the recorded request is passed in.</remarks>
    public void Map(string method, string path, Func<HttpContext, RecordedRequest, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(handler);
        _handlers[(method.ToUpperInvariant(), path)] = handler;
    }

    /// <summary>Serves <paramref name="script"/> (once) for <paramref name="method"/> <paramref name="path"/>.</summary>
    public void MapScript(string method, string path, StreamScript script)
    {
        ArgumentNullException.ThrowIfNull(script);
        var stopping = _stopping.Token;
        Map(method, path, (context, _) => script.RunAsync(context, stopping));
    }

    /// <summary>
    /// Completes with the first request, already received or still to come, that matches <paramref name="predicate"/>
    /// (any request when null). Fails if the server is disposed first.
    /// </summary>
    public Task<RecordedRequest> WaitForRequestAsync(Func<RecordedRequest, bool>? predicate = null)
    {
        predicate ??= static _ => true;
        lock (_lock)
        {
            foreach (var request in _requests)
            {
                if (predicate(request))
                {
                    return Task.FromResult(request);
                }
            }

            if (_disposed != 0)
            {
                return Task.FromException<RecordedRequest>(new ObjectDisposedException(nameof(FakeOllamaServer)));
            }

            var signal = new TaskCompletionSource<RecordedRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((predicate, signal));
            return signal.Task;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        lock (_lock)
        {
            foreach (var (_, signal) in _waiters)
            {
                signal.TrySetException(new InvalidOperationException($"Fake server '{Name}' stopped before a matching request arrived."));
            }

            _waiters.Clear();
        }

        using (var stopTimeout = new CancellationTokenSource(s_stopTimeout))
        {
            await _app.StopAsync(stopTimeout.Token);
        }

        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    public override string ToString() => $"{Name} at {BaseUri}";

    private async Task HandleAsync(HttpContext context)
    {
        var recorded = await RecordAsync(context);
        var method = context.Request.Method.ToUpperInvariant();
        if (_handlers.TryGetValue((method, recorded.Path), out var handler))
        {
            await handler(context, recorded);
            return;
        }

        await DefaultAsync(context, method, recorded);
    }

    private async Task<RecordedRequest> RecordAsync(HttpContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token))
        {
            await request.Body.CopyToAsync(body, linked.Token);
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = string.Join(", ", values.ToArray());
        }

        var recorded = new RecordedRequest(
            request.Method,
            request.Path.Value ?? string.Empty,
            request.QueryString.Value ?? string.Empty,
            headers,
            body.ToArray());

        List<TaskCompletionSource<RecordedRequest>>? matched = null;
        lock (_lock)
        {
            _requests.Add(recorded);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Predicate(recorded))
                {
                    (matched ??= []).Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (matched is not null)
        {
            foreach (var signal in matched)
            {
                signal.TrySetResult(recorded);
            }
        }

        return recorded;
    }

    private Task DefaultAsync(HttpContext context, string method, RecordedRequest request)
    {
        var isGet = method is "GET" or "HEAD";
        return (method, request.Path) switch
        {
            (_, "/") when isGet => WriteAsync(context, StatusCodes.Status200OK, TextContentType, "Ollama is running"u8.ToArray()),
            (_, "/api/version") when isGet => WriteAsync(context, StatusCodes.Status200OK, JsonContentType, FakeOllamaPayloads.Version(Version)),
            (_, "/api/tags") when isGet => WriteAsync(context, StatusCodes.Status200OK, JsonContentType, FakeOllamaPayloads.Tags(Models)),
            ("GET", "/api/ps") => WriteAsync(context, StatusCodes.Status200OK, JsonContentType, FakeOllamaPayloads.Ps(Running)),
            ("POST", "/api/chat" or "/api/generate" or "/api/embed" or "/api/embeddings" or "/api/show" or "/api/pull"
                or "/v1/chat/completions" or "/v1/completions" or "/v1/embeddings" or "/v1/responses" or "/v1/messages") => ModelAddressedAsync(context, request),
            _ => WriteAsync(context, StatusCodes.Status404NotFound, TextContentType, "404 page not found"u8.ToArray()),
        };
    }

    private async Task ModelAddressedAsync(HttpContext context, RecordedRequest request)
    {
        var isOpenAi = request.Path.StartsWith("/v1/", StringComparison.Ordinal);
        if (!TryReadModelRequest(request, out var model, out var stream, out var problem))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, problem, request.Path, "invalid_request_error");
            return;
        }

        if (RejectAllModels || UnknownModels.Contains(model))
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"model '{model}' not found", request.Path, "not_found_error");
            return;
        }

        // Native endpoints stream unless "stream":false; the OpenAI compat layer only when "stream":true.
        var streamed = isOpenAi ? stream == true : stream != false;
        var ok = StatusCodes.Status200OK;
        var chunks = Math.Max(0, ChunkCount);
        switch (request.Path)
        {
            case "/api/chat":
                if (streamed)
                {
                    await WriteStreamAsync(context, NdjsonContentType, ChatStream(model, chunks), isSse: false);
                }
                else
                {
                    await WriteAsync(context, ok, JsonContentType, FakeOllamaPayloads.ChatChunk(model, Concatenated(chunks), done: true, chunks));
                }

                break;
            case "/api/generate":
                if (streamed)
                {
                    await WriteStreamAsync(context, NdjsonContentType, GenerateStream(model, chunks), isSse: false);
                }
                else
                {
                    await WriteAsync(context, ok, JsonContentType, FakeOllamaPayloads.GenerateChunk(model, Concatenated(chunks), done: true, chunks));
                }

                break;
            case "/api/embed":
                await WriteAsync(context, ok, JsonContentType, FakeOllamaPayloads.Embed(model));
                break;
            case "/api/embeddings":
                await WriteAsync(context, ok, JsonContentType, FakeOllamaPayloads.Embeddings());
                break;
            case "/api/show":
                var known = Models.Find(m => m.Name == model || m.Model == model) ?? new FakeModel(model);
                await WriteAsync(context, ok, JsonContentType, FakeOllamaPayloads.Show(known));
                break;
            case "/api/pull":
                var progress = FakeOllamaPayloads.PullProgress(new FakeModel(model).Digest);
                if (streamed)
                {
                    await WriteStreamAsync(context, NdjsonContentType, progress, isSse: false);
                }
                else
                {
                    await WriteAsync(context, ok, JsonContentType, progress[^1]);
                }

                break;
            case "/v1/chat/completions":
                if (streamed)
                {
                    await WriteStreamAsync(context, SseContentType, OpenAiChatStream(model, chunks), isSse: true);
                }
                else
                {
                    await WriteAsync(context, ok, OpenAiJsonContentType, FakeOllamaPayloads.OpenAiChatCompletion(model, Concatenated(chunks), chunks));
                }

                break;
            case "/v1/completions":
                if (streamed)
                {
                    await WriteStreamAsync(context, SseContentType, OpenAiCompletionStream(model, chunks), isSse: true);
                }
                else
                {
                    await WriteAsync(context, ok, OpenAiJsonContentType, FakeOllamaPayloads.OpenAiCompletion(model, Concatenated(chunks), chunks));
                }

                break;
            case "/v1/responses":
                if (streamed)
                {
                    await WriteNamedEventsAsync(context, NamedEvents(chunks, "response.output_text.delta", "response.completed", FakeOllamaPayloads.OpenAiResponseStreamEvent));
                }
                else
                {
                    await WriteAsync(context, ok, OpenAiJsonContentType, FakeOllamaPayloads.OpenAiResponse(model, Concatenated(chunks)));
                }

                break;
            case "/v1/messages":
                if (streamed)
                {
                    await WriteNamedEventsAsync(context, NamedEvents(chunks, "content_block_delta", "message_stop", FakeOllamaPayloads.AnthropicStreamEvent));
                }
                else
                {
                    await WriteAsync(context, ok, OpenAiJsonContentType, FakeOllamaPayloads.AnthropicMessage(model, Concatenated(chunks)));
                }

                break;
            default: // "/v1/embeddings"
                await WriteAsync(context, ok, OpenAiJsonContentType, FakeOllamaPayloads.OpenAiEmbeddings(model));
                break;
        }
    }

    private static List<byte[]> ChatStream(string model, int chunks)
    {
        var lines = new List<byte[]>(chunks + 1);
        for (var i = 0; i < chunks; i++)
        {
            lines.Add(FakeOllamaPayloads.ChatChunk(model, Token(i), done: false));
        }

        lines.Add(FakeOllamaPayloads.ChatChunk(model, "", done: true, chunks));
        return lines;
    }

    private static List<byte[]> GenerateStream(string model, int chunks)
    {
        var lines = new List<byte[]>(chunks + 1);
        for (var i = 0; i < chunks; i++)
        {
            lines.Add(FakeOllamaPayloads.GenerateChunk(model, Token(i), done: false));
        }

        lines.Add(FakeOllamaPayloads.GenerateChunk(model, "", done: true, chunks));
        return lines;
    }

    private static List<byte[]> OpenAiChatStream(string model, int chunks)
    {
        var events = new List<byte[]>(chunks + 1);
        for (var i = 0; i < chunks; i++)
        {
            events.Add(FakeOllamaPayloads.OpenAiChatChunk(model, Token(i), finishReason: null, first: i == 0));
        }

        events.Add(FakeOllamaPayloads.OpenAiChatChunk(model, content: null, finishReason: "stop", first: chunks == 0));
        return events;
    }

    private static List<byte[]> OpenAiCompletionStream(string model, int chunks)
    {
        var events = new List<byte[]>(chunks + 1);
        for (var i = 0; i < chunks; i++)
        {
            events.Add(FakeOllamaPayloads.OpenAiCompletionChunk(model, Token(i), finishReason: null));
        }

        events.Add(FakeOllamaPayloads.OpenAiCompletionChunk(model, "", finishReason: "stop"));
        return events;
    }

    /// <summary>
    /// A stream of named events: one <paramref name="deltaEvent"/> per token, then
    /// <paramref name="lastEvent"/>; <paramref name="payload"/> makes the data of each (null: the last).
    /// </summary>
    private static List<(string Event, byte[] Data)> NamedEvents(int chunks, string deltaEvent, string lastEvent, Func<string?, byte[]> payload)
    {
        var events = new List<(string, byte[])>(chunks + 1);
        for (var i = 0; i < chunks; i++)
        {
            events.Add((deltaEvent, payload(Token(i))));
        }

        events.Add((lastEvent, payload(null)));
        return events;
    }

    private static string Token(int index) => "tok" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Concatenated(int chunks)
    {
        var text = new StringBuilder();
        for (var i = 0; i < chunks; i++)
        {
            text.Append(Token(i));
        }

        return text.ToString();
    }

    /// <summary>Reads "model" (else the deprecated "name") and "stream" the way Ollama's handlers need them.</summary>
    private static bool TryReadModelRequest(RecordedRequest request, out string model, out bool? stream, out string problem)
    {
        model = string.Empty;
        stream = null;
        problem = string.Empty;
        if (request.Body.Length == 0)
        {
            problem = "missing request body";
            return false;
        }

        try
        {
            // Like Go's decoder, read only the first JSON value; trailing bytes are ignored.
            var reader = new Utf8JsonReader(request.Body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "json: cannot unmarshal into Go value of type request";
                return false;
            }

            if (root.TryGetProperty("model", out var value) && value.ValueKind == JsonValueKind.String)
            {
                model = value.GetString() ?? string.Empty;
            }

            if (model.Length == 0 && root.TryGetProperty("name", out value) && value.ValueKind == JsonValueKind.String)
            {
                model = value.GetString() ?? string.Empty;
            }

            if (root.TryGetProperty("stream", out value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                stream = value.GetBoolean();
            }
        }
        catch (JsonException ex)
        {
            problem = "invalid JSON: " + ex.Message;
            return false;
        }

        if (model.Length == 0)
        {
            problem = "model is required";
            return false;
        }

        return true;
    }

    // Each compat layer wraps errors its own way; the error type names happen to agree for 400 and 404.
    private static Task WriteErrorAsync(HttpContext context, int status, string message, string path, string errorType) => path switch
    {
        "/v1/messages" => WriteAsync(context, status, JsonContentType, FakeOllamaPayloads.AnthropicError(message, errorType)),
        _ when path.StartsWith("/v1/", StringComparison.Ordinal) => WriteAsync(context, status, JsonContentType, FakeOllamaPayloads.OpenAiError(message, errorType)),
        _ => WriteAsync(context, status, JsonContentType, FakeOllamaPayloads.Error(message)),
    };

    /// <summary>Writes a whole body with its Content-Length; HEAD gets the same headers and no body, as in Go.</summary>
    private static async Task WriteAsync(HttpContext context, int status, string contentType, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    private async Task WriteStreamAsync(HttpContext context, string contentType, IEnumerable<byte[]> records, bool isSse)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var cancellationToken = linked.Token;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        if (isSse)
        {
            response.Headers.CacheControl = "no-cache";
        }

        await response.StartAsync(cancellationToken);
        foreach (var record in records)
        {
            byte[] chunk = isSse ? [.. "data: "u8, .. record, .. "\n\n"u8] : [.. record, (byte)'\n'];
            await WriteChunkAsync(response, chunk, cancellationToken);
        }

        if (isSse)
        {
            await WriteChunkAsync(response, "data: [DONE]\n\n"u8.ToArray(), cancellationToken);
        }
    }

    /// <summary>An SSE stream of named events (<c>event:</c> then <c>data:</c>), as the Responses and Anthropic layers write.</summary>
    private async Task WriteNamedEventsAsync(HttpContext context, IEnumerable<(string Event, byte[] Data)> events)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = SseContentType;
        await response.StartAsync(linked.Token);
        foreach (var (name, data) in events)
        {
            byte[] chunk = [.. Encoding.UTF8.GetBytes($"event: {name}\ndata: "), .. data, .. "\n\n"u8];
            await WriteChunkAsync(response, chunk, linked.Token);
        }
    }

    private static async Task WriteChunkAsync(HttpResponse response, byte[] chunk, CancellationToken cancellationToken)
    {
        // One write per framed record, then a flush: the client must be able to observe records one by one.
        await response.Body.WriteAsync(chunk, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
