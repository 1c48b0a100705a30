namespace Gollamas.Endpoints;

/// <summary>Which key a row of the endpoint table asks for.</summary>
internal enum EndpointAccess
{
    /// <summary>An API key, when API keys are configured; none on an address that serves no API (the metrics address).</summary>
    Client,

    /// <summary>No key: Kubernetes probes carry none.</summary>
    Open,

    /// <summary>
    /// An admin key, or an API key: the status. Open only when no key of either kind is
    /// configured, as the rest of the API then is.
    /// </summary>
    StatusReader,

    /// <summary>
    /// An admin key, always: the admin actions. Without any admin key configured the row does not
    /// exist (404). A valid API key here is refused with 403: it is known, but may not do this.
    /// </summary>
    Admin,
}
