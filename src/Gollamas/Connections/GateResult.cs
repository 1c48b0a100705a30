namespace Gollamas.Connections;

/// <summary>How a request's wait for a slot on a server ended.</summary>
internal enum GateResult
{
    /// <summary>It has a slot; it must give it back.</summary>
    Entered,

    /// <summary>Every slot was taken and the queue was full.</summary>
    QueueFull,

    /// <summary>It waited the whole queue timeout.</summary>
    TimedOut,

    /// <summary>The client left while it waited.</summary>
    Cancelled,
}
