namespace Gollamas.Connections;

/// <summary>The upstream server sent something that is not valid HTTP/1.1.</summary>
internal sealed class UpstreamProtocolException : IOException
{
    public UpstreamProtocolException(string message)
        : base(message)
    {
    }

    public UpstreamProtocolException()
    {
    }

    public UpstreamProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
