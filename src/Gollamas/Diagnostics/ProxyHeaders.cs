namespace Gollamas.Diagnostics;

/// <summary>The header fields the proxy itself sets on its answers (never passed back from a server).</summary>
internal static class ProxyHeaders
{
    /// <summary>The request's id (<see cref="Diagnostics.RequestId"/>): the client's sane one, else the proxy's; passed to Ollama and returned.</summary>
    public const string RequestId = "X-Request-Id";

    /// <summary>How long a request waited in connections' queues, on the answer of one that waited (<see cref="GoDuration"/>).</summary>
    public const string QueueWait = "X-Gollamas-Queue-Wait";

    /// <summary>Both, as a CORS answer names them for a page's script to read them (<c>Access-Control-Expose-Headers</c>).</summary>
    public const string Exposed = RequestId + ", " + QueueWait;
}
