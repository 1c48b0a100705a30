namespace Gollamas.Endpoints;

/// <summary>How a model-addressed endpoint's request body is read to find its model.</summary>
internal enum BodyKind
{
    /// <summary>No body is read: the endpoint is not addressed by a model in its body.</summary>
    None,

    /// <summary>A JSON object whose <c>model</c> is read and, for an alias, rewritten.</summary>
    Json,

    /// <summary>
    /// JSON that may come zstd-compressed (<c>Content-Encoding: zstd</c>), as Ollama accepts it on
    /// the Responses API: decompressed before the model is read, and forwarded decompressed.
    /// </summary>
    JsonOrZstd,

    /// <summary>A <c>multipart/form-data</c> (or urlencoded) form whose <c>model</c> field is read.</summary>
    Form,
}
