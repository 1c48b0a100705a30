using System.Buffers;
using System.Text.Json;
using Gollamas.Json;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Errors;

/// <summary>
/// The only code that writes error bodies the proxy makes itself, in the shape of the request's
/// API (its <see cref="ErrorShapeFeature"/>, which the dispatcher sets from the endpoint table):
/// Ollama's <c>{"error":"…"}</c> on native paths, the OpenAI envelope on <c>/v1/*</c>, and
/// Anthropic's on <c>/v1/messages</c>, each as Ollama's own compat layer writes it.
/// </summary>
internal static class ErrorWriter
{
    /// <summary>The shape of this request's errors: its API's, Ollama's if no shape was set.</summary>
    public static ErrorShape ShapeOf(HttpContext context) => context.Features.Get<ErrorShapeFeature>()?.Shape ?? ErrorShape.Ollama;

    /// <summary>Writes a complete error response. The response must not have started.</summary>
    public static Task WriteAsync(HttpContext context, int statusCode, string message) =>
        JsonResponse.WriteAsync(context, statusCode, (statusCode, message, shape: ShapeOf(context)), static (writer, error) =>
        {
            switch (error.shape)
            {
                case ErrorShape.OpenAi:
                case ErrorShape.OpenAiResponses:
                    WriteOpenAiEnvelope(writer, error.statusCode, error.message);
                    break;
                case ErrorShape.Anthropic:
                    writer.WriteStartObject();
                    WriteAnthropicError(writer, error.statusCode, error.message);
                    writer.WriteString(JsonNames.RequestId, NewRequestId());
                    writer.WriteEndObject();
                    break;
                default:
                    writer.WriteStartObject();
                    writer.WriteString(JsonNames.Error, error.message);
                    writer.WriteEndObject();
                    break;
            }
        });

    /// <summary>
    /// One SSE event carrying an error after the stream started, as the API's clients read it:
    /// Chat Completions streams take the OpenAI envelope in a plain <c>data:</c> event; the
    /// Responses API and Anthropic's Messages API name it <c>event: error</c>, each with its own
    /// error object. The caller has ended the previous event.
    /// </summary>
    public static void WriteSseErrorEvent(IBufferWriter<byte> writer, HttpContext context, int statusCode, string message)
    {
        var shape = ShapeOf(context);
        writer.Write(shape is ErrorShape.Anthropic or ErrorShape.OpenAiResponses ? "event: error\ndata: "u8 : "data: "u8);
        using (var json = new Utf8JsonWriter(writer, JsonWriting.Options))
        {
            json.WriteStartObject();
            if (shape == ErrorShape.Anthropic)
            {
                WriteAnthropicError(json, statusCode, message);
            }
            else if (shape == ErrorShape.OpenAiResponses)
            {
                // The Responses API's error event: type, code, message, param.
                json.WriteString(JsonNames.Type, JsonNames.Error);
                json.WriteString(JsonNames.Code, OpenAiType(statusCode));
                json.WriteString(JsonNames.Message, message);
                json.WriteNull(JsonNames.Param);
            }
            else
            {
                WriteOpenAiError(json, statusCode, message);
            }

            json.WriteEndObject();
        }

        writer.Write("\n\n"u8);
    }

    /// <summary>
    /// The members of an Anthropic error event, inside an object the caller opened:
    /// <c>"type":"error","error":{"type","message"}</c> (a response adds <c>request_id</c>).
    /// </summary>
    private static void WriteAnthropicError(Utf8JsonWriter writer, int statusCode, string message)
    {
        writer.WriteString(JsonNames.Type, JsonNames.Error);
        writer.WriteStartObject(JsonNames.Error);
        writer.WriteString(JsonNames.Type, AnthropicType(statusCode));
        writer.WriteString(JsonNames.Message, message);
        writer.WriteEndObject();
    }

    /// <summary>Ollama's mapping of a status code to an Anthropic error type (anthropic/anthropic.go).</summary>
    private static string AnthropicType(int statusCode) => statusCode switch
    {
        StatusCodes.Status400BadRequest => "invalid_request_error",
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status404NotFound => "not_found_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        StatusCodes.Status503ServiceUnavailable or 529 => "overloaded_error",
        _ => "api_error",
    };

    // As Ollama makes them: "req_" and 12 random bytes in hex. Not a secret: Random.Shared, not
    // RandomNumberGenerator, which loads OpenSSL (without libssl the runtime aborts the process).
    private static string NewRequestId()
    {
        Span<byte> random = stackalloc byte[12];
        Random.Shared.NextBytes(random);
        return string.Concat("req_", Convert.ToHexStringLower(random));
    }

    /// <summary>The OpenAI error envelope Ollama's compat layer writes.</summary>
    private static void WriteOpenAiEnvelope(Utf8JsonWriter writer, int statusCode, string message)
    {
        writer.WriteStartObject();
        WriteOpenAiError(writer, statusCode, message);
        writer.WriteEndObject();
    }

    private static void WriteOpenAiError(Utf8JsonWriter writer, int statusCode, string message)
    {
        writer.WriteStartObject(JsonNames.Error);
        writer.WriteString(JsonNames.Message, message);
        writer.WriteString(JsonNames.Type, OpenAiType(statusCode));
        writer.WriteNull(JsonNames.Param);
        writer.WriteNull(JsonNames.Code);
        writer.WriteEndObject();
    }

    /// <summary>Ollama's mapping of a status code to an OpenAI error type (middleware/openai.go).</summary>
    private static string OpenAiType(int statusCode) => statusCode switch
    {
        StatusCodes.Status400BadRequest => "invalid_request_error",
        StatusCodes.Status404NotFound => "not_found_error",
        _ => "api_error",
    };
}
