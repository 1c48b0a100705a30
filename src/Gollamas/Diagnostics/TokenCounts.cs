namespace Gollamas.Diagnostics;

/// <summary>Where an answer says how many tokens it took, by API: each request's chunks are searched for its own keys only.</summary>
internal enum TokenCounts
{
    /// <summary>No token counts (show, pull, lists).</summary>
    None,

    /// <summary>Ollama's final chunk: <c>eval_count</c> and <c>prompt_eval_count</c>.</summary>
    Ollama,

    /// <summary>OpenAI Chat Completions' <c>usage</c>: <c>completion_tokens</c> and <c>prompt_tokens</c>.</summary>
    OpenAi,

    /// <summary>
    /// The Responses and Anthropic Messages APIs' <c>usage</c>: <c>output_tokens</c> and
    /// <c>input_tokens</c>, last seen wins (Anthropic streams repeat them, the last being final).
    /// </summary>
    InputOutput,
}
