namespace Gollamas.Endpoints;

/// <summary>What a model-addressed endpoint does with the model, which decides how its body is read and rewritten.</summary>
internal enum ModelRequestKind
{
    /// <summary>Generate, chat, embed, embeddings: load the model; keep_alive and num_ctx settings apply.</summary>
    Native,

    /// <summary>The OpenAI and Anthropic compat endpoints (/v1/*): load the model, but Ollama reads no keep_alive or options there.</summary>
    OpenAi,

    /// <summary>Show and pull: do not load the model; the deprecated <c>name</c> key stands in for <c>model</c>.</summary>
    Catalog,

    /// <summary>OpenAI's audio transcriptions (/v1/audio/transcriptions): the model is a field of a multipart form.</summary>
    OpenAiForm,
}
