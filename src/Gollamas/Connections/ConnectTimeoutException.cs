namespace Gollamas.Connections;

/// <summary>No connection to a server within the connect timeout; the message (which says how long) is ours.</summary>
internal sealed class ConnectTimeoutException : TimeoutException
{
    public ConnectTimeoutException(string message)
        : base(message)
    {
    }

    public ConnectTimeoutException()
    {
    }

    public ConnectTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
