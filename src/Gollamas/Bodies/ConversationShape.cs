namespace Gollamas.Bodies;

/// <summary>
/// Where a request body keeps what identifies its conversation, by API surface (see
/// <see cref="ConversationKey"/>).
/// </summary>
internal enum ConversationShape
{
    /// <summary>No conversation: the body is never looked at.</summary>
    None,

    /// <summary>Ollama's <c>/api/chat</c>: <c>messages</c>.</summary>
    OllamaChat,

    /// <summary>Ollama's <c>/api/generate</c>: <c>system</c> and the beginning of <c>prompt</c>.</summary>
    OllamaGenerate,

    /// <summary>OpenAI's <c>/v1/chat/completions</c>: <c>messages</c>.</summary>
    OpenAiChat,

    /// <summary>Anthropic's <c>/v1/messages</c>: the top-level <c>system</c> and <c>messages</c>.</summary>
    AnthropicMessages,

    /// <summary>OpenAI's <c>/v1/responses</c>: <c>instructions</c> and <c>input</c> (a list of items, or a string).</summary>
    OpenAiResponses,
}
