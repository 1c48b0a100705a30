namespace Gollamas.Forwarding;

/// <summary>How a forward ended.</summary>
internal enum ForwardOutcome
{
    /// <summary>The whole upstream response reached the client.</summary>
    Success,

    /// <summary>No connection could be made, or it broke before response headers: 502.</summary>
    BackendUnreachable,

    /// <summary>Connecting (or the response headers) took too long: 504.</summary>
    BackendTimedOut,

    /// <summary>The upstream body broke after the response started: ended with an in-band error.</summary>
    BackendStreamBroken,

    /// <summary>The client went away; the upstream request was cancelled with it.</summary>
    ClientAborted,
}
