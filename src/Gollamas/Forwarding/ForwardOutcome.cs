namespace Gollamas.Forwarding;

/// <summary>How a forward ended.</summary>
/// <remarks>
/// The names never reach a log or a client: <see cref="ForwardOutcomeWords"/> says them in words.
/// </remarks>
internal enum ForwardOutcome
{
    /// <summary>The whole upstream response reached the client.</summary>
    Success,

    /// <summary>No connection could be made, or it broke before response headers: 502.</summary>
    BackendUnreachable,

    /// <summary>Connecting (or the response headers) took too long: 504.</summary>
    BackendTimedOut,

    /// <summary>
    /// The server answered 5xx or 429 and another route may take the request: nothing was
    /// written to the client, the answer was discarded.
    /// </summary>
    BackendRefused,

    /// <summary>The upstream body broke after the response started: ended with an in-band error.</summary>
    BackendStreamBroken,

    /// <summary>The drain time after a stop signal ran out: the request was ended (503, or an in-band error).</summary>
    ShuttingDown,

    /// <summary>The client went away; the upstream request was cancelled with it.</summary>
    ClientAborted,
}
