using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// What the address a connection was accepted on asks of its requests: a connection middleware
/// puts one in the connection's items (<see cref="Key"/>), so a request reads both marks with
/// one lookup. Connections on other addresses carry none.
/// </summary>
internal sealed class ListenerMarks
{
    /// <summary>
    /// The key of the connection's items that holds the marks: an object of its own, so the
    /// look-up each request makes hashes a reference, not a string.
    /// </summary>
    public static readonly object Key = new();

    /// <summary>
    /// What the address serves when it is one of its own (the metrics address, the admin
    /// address, or both at one); <see cref="EndpointGroups.None"/>: the proxy's own address.
    /// </summary>
    public EndpointGroups Serves { get; init; }

    /// <summary>Accepted on a loopback address: the Host of every request is checked.</summary>
    public bool ChecksHost { get; init; }

    /// <summary>
    /// The last Host value of this connection that was allowed. Kestrel hands out the same string
    /// again when a request on the connection sends the same bytes, so a repeated Host is one
    /// reference comparison instead of a parse; any other string is checked in full.
    /// </summary>
    public string? AllowedHost { get; set; }

    /// <summary>The marks of the request's connection, or null when it has none.</summary>
    public static ListenerMarks? Of(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Key, out var marks) == true ? marks as ListenerMarks : null;
}
