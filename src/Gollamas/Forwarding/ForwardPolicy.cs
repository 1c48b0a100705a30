namespace Gollamas.Forwarding;

/// <summary>How one request is forwarded: part of the snapshot the request read at its start.</summary>
/// <param name="IdleTimeout">Longest silence from a server; zero for none.</param>
/// <param name="StripAuthorization">
/// Whether the client's Authorization and x-api-key headers stay here (they carry the proxy's API key).
/// </param>
internal sealed record ForwardPolicy(TimeSpan IdleTimeout, bool StripAuthorization);
