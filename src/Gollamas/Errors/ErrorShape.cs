namespace Gollamas.Errors;

/// <summary>The error body an API's clients understand.</summary>
internal enum ErrorShape
{
    /// <summary>Ollama's <c>{"error":"…"}</c>, on the native paths.</summary>
    Ollama,

    /// <summary>The OpenAI envelope <c>{"error":{"message","type","param","code"}}</c>, on <c>/v1/*</c>.</summary>
    OpenAi,

    /// <summary>
    /// OpenAI's Responses API (<c>/v1/responses</c>): the OpenAI envelope for a whole response,
    /// but its own <c>event: error</c> (type, code, message, param) once a stream has started.
    /// </summary>
    OpenAiResponses,

    /// <summary>
    /// Anthropic's <c>{"type":"error","error":{"type","message"},"request_id"}</c>, on
    /// <c>/v1/messages</c> (Ollama's Anthropic-compatible endpoint).
    /// </summary>
    Anthropic,
}
