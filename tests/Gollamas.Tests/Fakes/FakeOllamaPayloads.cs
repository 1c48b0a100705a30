using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gollamas.Tests.Fakes;

/// <summary>
/// The JSON bodies <see cref="FakeOllamaServer"/> answers with, shaped like Ollama's (see docs/ollama-api.md §2–3).
/// Written with <see cref="Utf8JsonWriter"/>: reflection JSON is off in this repository.
/// </summary>
public static class FakeOllamaPayloads
{
    /// <summary>The fixed <c>created_at</c> of every generated chunk, so tests can compare whole lines.</summary>
    public const string CreatedAt = "2025-01-02T03:04:05.123456Z";

    /// <summary>The fixed OpenAI <c>created</c> (Unix seconds) of every compat chunk.</summary>
    public const long Created = 1735787045;

    // Go's encoder leaves non-ASCII raw; the relaxed encoder is the closest System.Text.Json gets.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Error(string message) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("error", message);
        w.WriteEndObject();
    });

    /// <summary>The OpenAI compat layer's error envelope, as <c>/v1/*</c> answers it.</summary>
    public static byte[] OpenAiError(string message, string type) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        w.WriteNull("param");
        w.WriteNull("code");
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public static byte[] Version(string version) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("version", version);
        w.WriteEndObject();
    });

    public static byte[] Tags(IEnumerable<FakeModel> models) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("models");
        foreach (var m in models)
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("model", m.Model);
            w.WriteString("modified_at", m.ModifiedAt);
            w.WriteNumber("size", m.Size);
            w.WriteString("digest", m.Digest);
            WriteDetails(w, m);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static byte[] Ps(IEnumerable<FakeModel> models) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("models");
        foreach (var m in models)
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("model", m.Model);
            w.WriteNumber("size", m.Size);
            w.WriteString("digest", m.Digest);
            WriteDetails(w, m);
            w.WriteString("expires_at", m.ExpiresAt);
            w.WriteNumber("size_vram", m.SizeVram ?? m.Size);
            w.WriteNumber("context_length", m.ContextLength);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>One <c>/api/chat</c> chunk; <paramref name="done"/> adds <c>done_reason</c> and the metrics.</summary>
    public static byte[] ChatChunk(string model, string content, bool done, int evalCount = 0) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("model", model);
        w.WriteString("created_at", CreatedAt);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", content);
        w.WriteEndObject();
        w.WriteBoolean("done", done);
        if (done)
        {
            WriteMetrics(w, evalCount);
        }

        w.WriteEndObject();
    });

    /// <summary>One <c>/api/generate</c> chunk; <paramref name="done"/> adds <c>done_reason</c>, <c>context</c> and the metrics.</summary>
    public static byte[] GenerateChunk(string model, string response, bool done, int evalCount = 0) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("model", model);
        w.WriteString("created_at", CreatedAt);
        w.WriteString("response", response);
        w.WriteBoolean("done", done);
        if (done)
        {
            w.WriteStartArray("context");
            w.WriteNumberValue(1);
            w.WriteNumberValue(2);
            w.WriteNumberValue(3);
            w.WriteEndArray();
            WriteMetrics(w, evalCount);
        }

        w.WriteEndObject();
    });

    public static byte[] Embed(string model) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("model", model);
        w.WriteStartArray("embeddings");
        w.WriteStartArray();
        w.WriteNumberValue(0.1);
        w.WriteNumberValue(0.2);
        w.WriteEndArray();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static byte[] Embeddings() => Build(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("embedding");
        w.WriteNumberValue(0.1);
        w.WriteNumberValue(0.2);
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static byte[] Show(FakeModel model) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("modelfile", "# Modelfile generated by the fake\nFROM " + model.Name + "\n");
        w.WriteString("parameters", "");
        w.WriteString("template", "{{ .Prompt }}");
        WriteDetails(w, model);
        w.WriteStartObject("model_info");
        w.WriteString("general.architecture", model.Family);
        w.WriteEndObject();
        w.WriteStartArray("capabilities");
        w.WriteStringValue("completion");
        w.WriteEndArray();
        w.WriteString("modified_at", model.ModifiedAt);
        w.WriteEndObject();
    });

    /// <summary>The <c>/api/pull</c> progress records, in order; the last is <c>{"status":"success"}</c>.</summary>
    public static IReadOnlyList<byte[]> PullProgress(string digest) =>
    [
        Status("pulling manifest"),
        Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("status", "pulling " + digest[..Math.Min(12, digest.Length)]);
            w.WriteString("digest", "sha256:" + digest);
            w.WriteNumber("total", 100);
            w.WriteNumber("completed", 100);
            w.WriteEndObject();
        }),
        Status("verifying sha256 digest"),
        Status("writing manifest"),
        Status("success"),
    ];

    public static byte[] Status(string status) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("status", status);
        w.WriteEndObject();
    });

    /// <summary>
    /// One <c>chat.completion.chunk</c>: <paramref name="content"/> in the delta, or, when <paramref name="finishReason"/>
    /// is set, the closing chunk with an empty delta.
    /// </summary>
    public static byte[] OpenAiChatChunk(string model, string? content, string? finishReason, bool first = false) => Build(w =>
    {
        StartOnlyChoice(w, "chatcmpl-1", "chat.completion.chunk", model);
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        if (first)
        {
            w.WriteString("role", "assistant");
        }

        if (content is not null)
        {
            w.WriteString("content", content);
        }

        w.WriteEndObject();
        WriteFinishReason(w, finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static byte[] OpenAiChatCompletion(string model, string content, int completionTokens) => Build(w =>
    {
        StartOnlyChoice(w, "chatcmpl-1", "chat.completion", model);
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", content);
        w.WriteEndObject();
        w.WriteString("finish_reason", "stop");
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, completionTokens);
        w.WriteEndObject();
    });

    public static byte[] OpenAiCompletionChunk(string model, string text, string? finishReason) => Build(w =>
    {
        StartOnlyChoice(w, "cmpl-1", "text_completion", model);
        w.WriteString("text", text);
        w.WriteNumber("index", 0);
        WriteFinishReason(w, finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    public static byte[] OpenAiCompletion(string model, string text, int completionTokens) => Build(w =>
    {
        StartOnlyChoice(w, "cmpl-1", "text_completion", model);
        w.WriteString("text", text);
        w.WriteNumber("index", 0);
        w.WriteString("finish_reason", "stop");
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, completionTokens);
        w.WriteEndObject();
    });

    // The envelope of an OpenAI answer or chunk, up to the inside of its one choice.
    private static void StartOnlyChoice(Utf8JsonWriter w, string id, string @object, string model)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", @object);
        w.WriteNumber("created", Created);
        w.WriteString("model", model);
        w.WriteString("system_fingerprint", "fp_ollama");
        w.WriteStartArray("choices");
        w.WriteStartObject();
    }

    public static byte[] OpenAiEmbeddings(string model) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        w.WriteStartObject();
        w.WriteString("object", "embedding");
        w.WriteStartArray("embedding");
        w.WriteNumberValue(0.1);
        w.WriteNumberValue(0.2);
        w.WriteEndArray();
        w.WriteNumber("index", 0);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteString("model", model);
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", 1);
        w.WriteNumber("total_tokens", 1);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>Anthropic's error response, as Ollama's <c>/v1/messages</c> answers it.</summary>
    public static byte[] AnthropicError(string message, string type) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", type);
        w.WriteString("message", message);
        w.WriteEndObject();
        w.WriteString("request_id", "req_0123456789abcdef01234567");
        w.WriteEndObject();
    });

    /// <summary>A whole Anthropic Messages API answer with <paramref name="text"/> in one text block.</summary>
    public static byte[] AnthropicMessage(string model, string text) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", "msg_1");
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", model);
        w.WriteStartArray("content");
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteString("stop_reason", "end_turn");
        w.WriteEndObject();
    });

    /// <summary>One Anthropic stream event: a text delta, or (<paramref name="text"/> null) the final message_stop.</summary>
    public static byte[] AnthropicStreamEvent(string? text) => Build(w =>
    {
        w.WriteStartObject();
        if (text is null)
        {
            w.WriteString("type", "message_stop");
        }
        else
        {
            w.WriteString("type", "content_block_delta");
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            w.WriteString("type", "text_delta");
            w.WriteString("text", text);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    });

    /// <summary>A whole OpenAI Responses API answer with <paramref name="text"/> as its one output text.</summary>
    public static byte[] OpenAiResponse(string model, string text) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", "resp_1");
        w.WriteString("object", "response");
        w.WriteString("model", model);
        w.WriteString("status", "completed");
        w.WriteStartArray("output");
        w.WriteStartObject();
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>One Responses API stream event: a text delta, or (<paramref name="text"/> null) response.completed.</summary>
    public static byte[] OpenAiResponseStreamEvent(string? text) => Build(w =>
    {
        w.WriteStartObject();
        if (text is null)
        {
            w.WriteString("type", "response.completed");
        }
        else
        {
            w.WriteString("type", "response.output_text.delta");
            w.WriteString("delta", text);
        }

        w.WriteEndObject();
    });

    private static void WriteDetails(Utf8JsonWriter w, FakeModel m)
    {
        w.WriteStartObject("details");
        w.WriteString("parent_model", "");
        w.WriteString("format", "gguf");
        w.WriteString("family", m.Family);
        w.WriteStartArray("families");
        foreach (var family in m.Families)
        {
            w.WriteStringValue(family);
        }

        w.WriteEndArray();
        w.WriteString("parameter_size", m.ParameterSize);
        w.WriteString("quantization_level", m.QuantizationLevel);
        w.WriteEndObject();
    }

    private static void WriteMetrics(Utf8JsonWriter w, int evalCount)
    {
        w.WriteString("done_reason", "stop");
        w.WriteNumber("total_duration", 4935886791);
        w.WriteNumber("load_duration", 534986708);
        w.WriteNumber("prompt_eval_count", 26);
        w.WriteNumber("prompt_eval_duration", 107345000);
        w.WriteNumber("eval_count", evalCount);
        w.WriteNumber("eval_duration", 4289432000);
    }

    private static void WriteFinishReason(Utf8JsonWriter w, string? finishReason)
    {
        if (finishReason is null)
        {
            w.WriteNull("finish_reason");
        }
        else
        {
            w.WriteString("finish_reason", finishReason);
        }
    }

    private static void WriteUsage(Utf8JsonWriter w, int completionTokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", 26);
        w.WriteNumber("completion_tokens", completionTokens);
        w.WriteNumber("total_tokens", 26 + completionTokens);
        w.WriteEndObject();
    }

    private static byte[] Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
