namespace Gollamas.Connections;

/// <summary>What <see cref="UpstreamChannel.CheckIdle"/> found on a pooled channel.</summary>
internal enum IdleCheck
{
    /// <summary>Nothing arrived while it idled: it may carry the next request.</summary>
    Usable,

    /// <summary>It idled longer than the pool keeps connections.</summary>
    Expired,

    /// <summary>Bytes or the server's close arrived while it idled.</summary>
    Readable,
}
