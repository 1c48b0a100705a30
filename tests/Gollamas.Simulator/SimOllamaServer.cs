using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gollamas.Simulator;

/// <summary>
/// A <see cref="SimServer"/> behind a real HTTP listener on 127.0.0.1 (port 0), speaking the part
/// of Ollama's API a proxy and its clients use: <c>GET|HEAD /</c>, <c>/api/version</c>,
/// <c>/api/tags</c>, <c>GET /api/ps</c>, <c>POST /api/show</c>, and <c>POST /api/chat</c> and
/// <c>/api/generate</c>, streamed as NDJSON unless <c>stream:false</c>. A stream's head goes out
/// with its first chunk, as Ollama's does, so a proxy sees the load and the queue as time to
/// first byte.
/// </summary>
public sealed class SimOllamaServer : IAsyncDisposable
{
    private const string JsonType = "application/json; charset=utf-8";
    private const string BusyMessage = "server busy, please try again.  maximum pending requests exceeded";
    private static readonly TimeSpan s_forever = TimeSpan.FromHours(2562047);

    // Go's encoder escapes only what HTML needs (<, >, &), not quotes such as ' in a model name.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly WebApplication _app;

    private SimOllamaServer(SimServer model, WebApplication app)
    {
        Model = model;
        _app = app;
        BaseUri = null!;
    }

    public SimServer Model { get; }

    /// <summary>The bound address with a trailing slash.</summary>
    public Uri BaseUri { get; private set; }

    public string Version { get; init; } = "0.12.6";

    public static async Task<SimOllamaServer> StartAsync(SimServer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxConcurrentConnections = null;
            options.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var server = new SimOllamaServer(model, app);
        app.Run(server.HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("Kestrel exposes no server addresses feature.");
        server.BaseUri = new Uri(addresses.Addresses.Single().TrimEnd('/') + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Streams still open when the run ends are cut.
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var get = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        var post = HttpMethods.IsPost(request.Method);
        return request.Path.Value switch
        {
            "/" when get => Text(context, 200, "Ollama is running"),
            "/api/version" when get => Json(context, 200, w => w.WriteString("version", Version)),
            "/api/tags" when get => Json(context, 200, WriteTags),
            "/api/ps" when HttpMethods.IsGet(request.Method) => Json(context, 200, WritePs),
            "/api/show" when post => ShowAsync(context),
            "/api/chat" when post => GenerateAsync(context, chat: true),
            "/api/generate" when post => GenerateAsync(context, chat: false),
            "/" or "/api/version" or "/api/tags" or "/api/ps" or "/api/show" or "/api/chat" or "/api/generate" => Text(context, 405, "405 method not allowed"),
            _ => Text(context, 404, "404 page not found"),
        };
    }

    private void WriteTags(Utf8JsonWriter w)
    {
        w.WriteStartArray("models");
        foreach (var model in Model.Options.Models)
        {
            w.WriteStartObject();
            w.WriteString("name", model.Name);
            w.WriteString("model", model.Name);
            w.WriteString("modified_at", Time(TimeSpan.Zero - TimeSpan.FromDays(30)));
            w.WriteNumber("size", model.SizeBytes);
            w.WriteString("digest", Digest(model));
            WriteDetails(w, model);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private void WritePs(Utf8JsonWriter w)
    {
        var now = Model.Clock.Now;
        w.WriteStartArray("models");
        foreach (var loaded in Model.Loaded())
        {
            w.WriteStartObject();
            w.WriteString("name", loaded.Model.Name);
            w.WriteString("model", loaded.Model.Name);
            w.WriteNumber("size", loaded.Model.SizeBytes);
            w.WriteString("digest", Digest(loaded.Model));
            WriteDetails(w, loaded.Model);
            w.WriteString("expires_at", Time(loaded.ExpiresAt ?? now + s_forever));
            w.WriteNumber("size_vram", loaded.Model.SizeBytes);
            w.WriteNumber("context_length", loaded.NumCtx);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private async Task ShowAsync(HttpContext context)
    {
        using var body = await ReadJsonAsync(context).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        var name = StringOf(body.RootElement, "model") ?? StringOf(body.RootElement, "name") ?? string.Empty;
        var model = Model.FindModel(name);
        if (model is null)
        {
            await Error(context, 404, $"model '{name}' not found").ConfigureAwait(false);
            return;
        }

        await Json(context, 200, w =>
        {
            w.WriteString("license", string.Empty);
            w.WriteString("modelfile", "# simulated\nFROM " + model.Name + "\n");
            w.WriteString("parameters", string.Empty);
            w.WriteString("template", "{{ .Prompt }}");
            WriteDetails(w, model);
            w.WriteStartObject("model_info");
            w.WriteString("general.architecture", "llama");
            w.WriteNumber("general.parameter_count", (long)(model.SizeGb * 1.8e9));
            w.WriteNumber("llama.context_length", 131072);
            w.WriteEndObject();
            w.WriteStartArray("capabilities");
            w.WriteStringValue("completion");
            w.WriteEndArray();
            w.WriteString("modified_at", Time(TimeSpan.Zero - TimeSpan.FromDays(30)));
        }).ConfigureAwait(false);
    }

    private async Task GenerateAsync(HttpContext context, bool chat)
    {
        using var body = await ReadJsonAsync(context).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        var root = body.RootElement;
        var name = StringOf(root, "model") ?? string.Empty;
        if (name.Length == 0 && chat)
        {
            await Error(context, 400, "model is required").ConfigureAwait(false);
            return;
        }

        var model = Model.FindModel(name);
        if (model is null)
        {
            await Error(context, 404, $"model '{name}' not found").ConfigureAwait(false);
            return;
        }

        if (!TryReadRequest(root, model, chat, out var request, out var problem))
        {
            await Error(context, 400, problem).ConfigureAwait(false);
            return;
        }

        var stream = !(root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.False);
        var job = Model.Submit(request);
        var aborted = context.RequestAborted;
        try
        {
            await AnswerAsync(context, job, model, chat, stream && request.Kind == SimJobKind.Generate, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            Model.Cancel(job);
        }
        catch (IOException)
        {
            Model.Cancel(job);
        }
    }

    private async Task AnswerAsync(HttpContext context, SimJob job, SimModel model, bool chat, bool stream, CancellationToken aborted)
    {
        var written = 0;
        var content = new StringBuilder();
        await foreach (var progress in job.Progress.ReadAllAsync(aborted).ConfigureAwait(false))
        {
            switch (progress.Kind)
            {
                case SimProgressKind.Busy:
                    await Error(context, 503, BusyMessage).ConfigureAwait(false);
                    return;
                case SimProgressKind.TooLarge:
                    await Error(context, 500, "model requires more system memory than is available").ConfigureAwait(false);
                    return;
                case SimProgressKind.Tokens:
                    var words = new StringBuilder();
                    for (var i = written; i < written + progress.Tokens; i++)
                    {
                        words.Append(job.AnswerWords[i]).Append(' ');
                    }

                    written += progress.Tokens;
                    if (stream)
                    {
                        await Line(context, w => WriteChunk(w, model, chat, words.ToString(), done: false)).ConfigureAwait(false);
                    }
                    else
                    {
                        content.Append(words);
                    }

                    break;
                case SimProgressKind.Done:
                    var result = progress.Result!;
                    if (stream)
                    {
                        await Line(context, w =>
                        {
                            WriteChunk(w, model, chat, string.Empty, done: true);
                            WriteResult(w, result);
                        }, end: true).ConfigureAwait(false);
                    }
                    else
                    {
                        await Json(context, 200, w =>
                        {
                            WriteChunkFields(w, model, chat, content.ToString(), done: true);
                            WriteResult(w, result);
                        }).ConfigureAwait(false);
                    }

                    return;
            }
        }
    }

    private static bool TryReadRequest(JsonElement root, SimModel model, bool chat, out SimJobRequest request, out string problem)
    {
        request = null!;
        problem = string.Empty;
        int[] prompt;
        if (chat)
        {
            var messages = new List<(string, string)>();
            if (root.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var message in list.EnumerateArray())
                {
                    messages.Add((StringOf(message, "role") ?? "user", StringOf(message, "content") ?? string.Empty));
                }
            }

            prompt = messages.Count == 0 ? [] : SimTokens.Chat(messages);
        }
        else
        {
            var text = StringOf(root, "prompt") ?? string.Empty;
            prompt = text.Length == 0 ? [] : SimTokens.Generate(StringOf(root, "system"), text);
        }

        TimeSpan? keepAlive = null;
        if (root.TryGetProperty("keep_alive", out var k) && k.ValueKind != JsonValueKind.Null)
        {
            var text = k.ValueKind == JsonValueKind.String ? k.GetString()! : k.GetRawText();
            if (!GoDuration.TryParse(text, out var parsed))
            {
                problem = "keep_alive is not a duration";
                return false;
            }

            keepAlive = parsed;
        }

        int? numPredict = null, numCtx = null;
        if (root.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Object)
        {
            numPredict = IntOf(options, "num_predict");
            numCtx = IntOf(options, "num_ctx");
        }

        var kind = prompt.Length > 0 ? SimJobKind.Generate : keepAlive == TimeSpan.Zero ? SimJobKind.Unload : SimJobKind.Load;

        // Without num_predict the model stops on its own after a length that depends on the prompt.
        var output = numPredict is > 0 ? numPredict.Value : 32 + (int)((uint)prompt.Sum() % 224);
        request = new SimJobRequest
        {
            Model = model,
            Kind = kind,
            Prompt = prompt,
            OutputTokens = kind == SimJobKind.Generate ? output : 0,
            LimitedByRequest = numPredict is > 0,
            NumCtx = numCtx,
            KeepAlive = keepAlive,
        };
        return true;
    }

    private void WriteChunk(Utf8JsonWriter w, SimModel model, bool chat, string text, bool done) => WriteChunkFields(w, model, chat, text, done);

    private void WriteChunkFields(Utf8JsonWriter w, SimModel model, bool chat, string text, bool done)
    {
        w.WriteString("model", model.Name);
        w.WriteString("created_at", Time(Model.Clock.Now));
        if (chat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("response", text);
        }

        w.WriteBoolean("done", done);
    }

    private static void WriteResult(Utf8JsonWriter w, SimResult result)
    {
        w.WriteString("done_reason", result.DoneReason);

        // Ollama's metrics are omitempty: a zero is left out.
        void Number(string name, long value)
        {
            if (value != 0)
            {
                w.WriteNumber(name, value);
            }
        }

        Number("total_duration", Nanoseconds(result.TotalDuration));
        Number("load_duration", Nanoseconds(result.LoadDuration));
        Number("prompt_eval_count", result.PromptEvalCount);
        Number("prompt_eval_duration", Nanoseconds(result.PromptEvalDuration));
        Number("eval_count", result.EvalCount);
        Number("eval_duration", Nanoseconds(result.EvalDuration));
    }

    private static void WriteDetails(Utf8JsonWriter w, SimModel model)
    {
        w.WriteStartObject("details");
        w.WriteString("parent_model", string.Empty);
        w.WriteString("format", "gguf");
        w.WriteString("family", "llama");
        w.WriteStartArray("families");
        w.WriteStringValue("llama");
        w.WriteEndArray();
        w.WriteString("parameter_size", (model.SizeGb * 1.8).ToString("0.#", CultureInfo.InvariantCulture) + "B");
        w.WriteString("quantization_level", "Q4_K_M");
        w.WriteEndObject();
    }

    private static string Digest(SimModel model)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(model.Name));
        return Convert.ToHexStringLower(hash);
    }

    private string Time(TimeSpan at) => Model.Clock.UtcAt(at).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static long Nanoseconds(TimeSpan duration) => duration.Ticks * 100;

    private static async Task<JsonDocument?> ReadJsonAsync(HttpContext context)
    {
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            await Error(context, 400, "the request body is not JSON").ConfigureAwait(false);
            return null;
        }
    }

    private static string? StringOf(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? IntOf(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) ? (int)number : null;

    private static Task Text(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.ContentLength = bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes).AsTask();
    }

    private static Task Error(HttpContext context, int status, string message) => Json(context, status, w => w.WriteString("error", message));

    private static Task Json(HttpContext context, int status, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = JsonType;
        context.Response.ContentLength = buffer.WrittenCount;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

    /// <summary>One NDJSON line, flushed; the last one ends the body.</summary>
    private static async Task Line(HttpContext context, Action<Utf8JsonWriter> body, bool end = false)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.ContentType = "application/x-ndjson";
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        if (end)
        {
            await context.Response.CompleteAsync().ConfigureAwait(false);
        }
        else
        {
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
    }
}
