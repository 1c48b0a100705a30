namespace Gollamas.Backends;

/// <summary>What <see cref="UpstreamConnection.CheckIdle"/> found on a pooled connection.</summary>
internal enum IdleCheck
{
    /// <summary>Nothing arrived while it idled: it may carry the next request.</summary>
    Usable,

    /// <summary>It idled longer than the pool keeps connections.</summary>
    Expired,

    /// <summary>Bytes or the server's close arrived while it idled.</summary>
    Readable,
}
