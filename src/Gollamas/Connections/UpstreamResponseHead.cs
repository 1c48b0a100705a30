namespace Gollamas.Connections;

/// <summary>
/// A parsed upstream status line and header block: what the forwarder copies to the client and
/// how the body that follows is framed.
/// </summary>
internal sealed class UpstreamResponseHead
{
    public UpstreamResponseHead(int statusCode, List<KeyValuePair<string, string>> headers, BodyFraming framing, long contentLength, bool keepAlive)
    {
        StatusCode = statusCode;
        Headers = headers;
        Framing = framing;
        ContentLength = contentLength;
        KeepAlive = keepAlive;
    }

    public int StatusCode { get; }

    /// <summary>Header fields in the order received, names and values as sent.</summary>
    public List<KeyValuePair<string, string>> Headers { get; }

    public BodyFraming Framing { get; }

    /// <summary>The declared length when <see cref="Framing"/> is <see cref="BodyFraming.ContentLength"/>.</summary>
    public long ContentLength { get; }

    /// <summary>Whether the server will keep the connection open after this response.</summary>
    public bool KeepAlive { get; }
}
