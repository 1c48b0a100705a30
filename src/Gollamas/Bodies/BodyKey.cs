namespace Gollamas.Bodies;

/// <summary>What a top-level key of a request body is to Ollama's Go decoder, as far as the proxy cares.</summary>
internal enum BodyKey
{
    /// <summary>Any field the proxy neither routes on nor rewrites.</summary>
    Other,

    /// <summary><c>model</c>, in any ASCII case.</summary>
    Model,

    /// <summary><c>name</c>, in any ASCII case, where the deprecated key is accepted (pull, show).</summary>
    Name,

    /// <summary>A field some rule names (<see cref="WatchedFields"/>), as Go's <c>foldName</c> matches it.</summary>
    Watched,

    /// <summary><c>options</c>, as Go's <c>foldName</c> matches it.</summary>
    Options,
}
