namespace Gollamas.Connections;

/// <summary>
/// A channel to a server that failed in a way the proxy words itself (the TLS handshake, a close
/// in the middle of an answer): its message is a sentence of ours, safe to show a client, unlike
/// the runtime's (resource keys in the published binary).
/// </summary>
internal sealed class UpstreamConnectionException : IOException
{
    public UpstreamConnectionException(string message)
        : base(message)
    {
    }

    public UpstreamConnectionException()
    {
    }

    public UpstreamConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
