using System.Text.Json;
using Gollamas.Json;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Errors;

/// <summary>
/// The only code that writes error bodies the proxy makes itself, in the shape the path demands:
/// Ollama's <c>{"error":"…"}</c> on native paths, the OpenAI envelope on <c>/v1/*</c>.
/// </summary>
internal static class ErrorWriter
{
    /// <summary>Whether errors on this path use the OpenAI envelope.</summary>
    public static bool UsesOpenAiShape(PathString path) =>
        path.HasValue && (path.Value!.StartsWith("/v1/", StringComparison.Ordinal) || path.Value == "/v1");

    /// <summary>Writes a complete error response. The response must not have started.</summary>
    public static Task WriteAsync(HttpContext context, int statusCode, string message) =>
        JsonResponse.WriteAsync(context, statusCode, (statusCode, message, openAi: UsesOpenAiShape(context.Request.Path)), static (writer, error) =>
        {
            if (error.openAi)
            {
                WriteOpenAiEnvelope(writer, error.statusCode, error.message);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteString(JsonNames.Error, error.message);
                writer.WriteEndObject();
            }
        });

    /// <summary>The OpenAI error envelope Ollama's compat layer writes.</summary>
    public static void WriteOpenAiEnvelope(Utf8JsonWriter writer, int statusCode, string message)
    {
        writer.WriteStartObject();
        writer.WriteStartObject(JsonNames.Error);
        writer.WriteString(JsonNames.Message, message);
        writer.WriteString(JsonNames.Type, OpenAiType(statusCode));
        writer.WriteNull(JsonNames.Param);
        writer.WriteNull(JsonNames.Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Ollama's mapping of a status code to an OpenAI error type (middleware/openai.go).</summary>
    public static string OpenAiType(int statusCode) => statusCode switch
    {
        StatusCodes.Status400BadRequest => "invalid_request_error",
        StatusCodes.Status404NotFound => "not_found_error",
        _ => "api_error",
    };
}
