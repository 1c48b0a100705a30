using System.Collections.Frozen;

namespace Gollamas.Forwarding;

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
    // refuse with an empty 403 what the proxy's own origins allow.
    private static readonly FrozenSet<string> s_notForwarded = new[]
    {
        "Host", "Content-Length", "Expect", "Origin",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether a client request header is copied to the upstream request.</summary>
    public static bool IsForwardedRequestHeader(string name) => !s_hopByHop.Contains(name) && !s_notForwarded.Contains(name);

    /// <summary>Whether an upstream response header is copied to the client response.</summary>
    public static bool IsForwardedResponseHeader(string name) => !s_hopByHop.Contains(name);
}
