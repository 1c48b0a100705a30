namespace Gollamas.Endpoints;

/// <summary>
/// What a model-addressed endpoint does with the model and how its API speaks: which decides how
/// its body is read and rewritten and where its answer says how many tokens it took.
/// </summary>
internal enum ModelRequestKind
{
    /// <summary>Generate, chat, embed, embeddings: load the model; keep_alive and num_ctx settings apply.</summary>
    Native,

    /// <summary>Show and pull: do not load the model; the deprecated <c>name</c> key stands in for <c>model</c>.</summary>
    Catalog,

    /// <summary>
    /// OpenAI's chat completions, completions and embeddings (/v1/*): load the model, but Ollama's
    /// compat layers read no keep_alive or options; so for every kind below.
    /// </summary>
    OpenAi,

    /// <summary>OpenAI's Responses API (/v1/responses): the body may come zstd-compressed.</summary>
    OpenAiResponses,

    /// <summary>Anthropic's Messages API (/v1/messages).</summary>
    Anthropic,

    /// <summary>OpenAI's audio transcriptions (/v1/audio/transcriptions): the model is a field of a multipart form.</summary>
    OpenAiForm,
}
