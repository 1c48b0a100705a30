using System.Collections.Frozen;
using Gollamas.Diagnostics;
using Microsoft.Extensions.Primitives;

namespace Gollamas.Connections;

/// <summary>Headers that never pass the proxy in either direction.</summary>
internal static class HeaderFilter
{
    // RFC 9110 §7.6.1 hop-by-hop fields, plus the framing fields each hop sets for itself.
    private static readonly FrozenSet<string> s_hopByHop = new[]
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Alt-Svc",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    // The upstream request gets the upstream's own Host (Ollama refuses foreign Host headers on
    // loopback, §7b); Content-Length comes from the body actually sent; Expect is answered here.
    // CORS is decided by the proxy: an Origin passed on would make each server decide again, and
    // refuse with an empty 403 what the proxy's own origins allow. The request's id is written by
    // the proxy: the client's own when it is sane, else one of the proxy's.
    private static readonly FrozenSet<string> s_notForwarded = new[]
    {
        "Host", "Content-Length", "Expect", "Origin", ProxyHeaders.RequestId,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether a client request header is copied to the upstream request.</summary>
    public static bool IsForwardedRequestHeader(string name) => !s_hopByHop.Contains(name) && !s_notForwarded.Contains(name);

    // The hop-by-hop fields, and those the proxy sets on every answer itself: a server behind it
    // (another proxy) echoing the request id must not make it two.
    private static readonly FrozenSet<string> s_notForwardedResponse = new[]
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Alt-Svc",
        ProxyHeaders.RequestId, ProxyHeaders.QueueWait,
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether an upstream response header is copied to the client response.</summary>
    public static bool IsForwardedResponseHeader(string name) => !s_notForwardedResponse.Contains(name);

    /// <summary>
    /// Whether a Connection header of the request names <paramref name="name"/>: such a field is
    /// hop-by-hop too (RFC 9110 section 7.6.1) and is not passed on.
    /// </summary>
    public static bool IsNamedInConnection(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            if (ListContains(value, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the Connection fields of an upstream response (<see cref="UpstreamResponseHead.ConnectionList"/>,
    /// read as the head was parsed) name <paramref name="name"/>; a name longer than the whole list is not in it.
    /// </summary>
    public static bool IsNamedIn(string? connectionList, string name) =>
        connectionList is not null && name.Length <= connectionList.Length && ListContains(connectionList, name);

    // A comma list of tokens with optional white space around each (RFC 9110 section 5.6.1); any case.
    private static bool ListContains(ReadOnlySpan<char> list, string name)
    {
        foreach (var range in list.Split(','))
        {
            if (list[range].Trim(" \t").Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
