namespace Gollamas.Connections;

/// <summary>How an HTTP/1.1 response body is delimited (RFC 9112 §6.3).</summary>
internal enum BodyFraming
{
    /// <summary>No body: HEAD, 1xx, 204, 304.</summary>
    None,

    /// <summary>Exactly Content-Length bytes.</summary>
    ContentLength,

    /// <summary>Transfer-Encoding: chunked; what Ollama uses for every stream.</summary>
    Chunked,

    /// <summary>Everything until the server closes the connection.</summary>
    UntilClose,
}
