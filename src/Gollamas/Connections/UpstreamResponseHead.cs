namespace Gollamas.Connections;

/// <summary>
/// A parsed upstream status line and header block: what the forwarder copies to the client and
/// how the body that follows is framed.
/// </summary>
internal sealed class UpstreamResponseHead
{
    public UpstreamResponseHead(int statusCode, List<KeyValuePair<string, string>> headers, BodyFraming framing, long contentLength, bool keepAlive, string? connectionList = null)
    {
        ConnectionList = connectionList;
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

    /// <summary>
    /// The values of the Connection fields as one comma list, or null when there is none: the
    /// fields it names are hop-by-hop too (<see cref="HeaderFilter.IsNamedIn"/>).
    /// </summary>
    public string? ConnectionList { get; }

    /// <summary>Whether the server will keep the connection open after this response.</summary>
    public bool KeepAlive { get; }
}
