using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Gollamas.Security;

/// <summary>
/// The Host names a loopback listener answers to: Ollama's guard against DNS rebinding
/// (CVE-2024-28224), <c>allowedHostsMiddleware</c>, <c>allowedHost</c> and <c>isLocalIP</c> in
/// ollama/server/routes.go, plus the operator's <c>--allowed-hosts</c>. A web page whose own
/// name an attacker re-points at 127.0.0.1 reaches a loopback listener with that name in Host;
/// anything not local is refused before it reaches a server. The proxy sends the server's own
/// Host upstream, so Ollama's copy of this check can no longer see the client's: it is made here.
/// </summary>
internal sealed class HostAllowList
{
    // allowedHost: a name under one of these suffixes never resolves on the public internet.
    private static readonly string[] s_localSuffixes = [".localhost", ".local", ".internal"];

    private readonly string[] _names;

    /// <param name="names">
    /// The operator's names (<c>--allowed-hosts</c>), any case, without port; <c>*</c> turns the check off.
    /// </param>
    public HostAllowList(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        AllowsAll = names.Contains("*");
        _names = [.. names.Where(static name => name != "*")];
    }

    /// <summary>Whether every Host is served (<c>--allowed-hosts '*'</c>).</summary>
    public bool AllowsAll { get; }

    /// <summary>
    /// Whether a Host header value (port included, as the client sent it) names this machine or
    /// one of the operator's names. Ollama's rules, in its order: the host part of
    /// <c>net.SplitHostPort</c> (or the whole value when that fails: no port, bare IPv6); an IP
    /// literal that is loopback, private, unspecified or one of this machine's addresses;
    /// empty (an HTTP/1.0 request without Host); <c>localhost</c>; the machine's host name;
    /// a name under <c>.localhost</c>, <c>.local</c> or <c>.internal</c>.
    /// </summary>
    /// <remarks>
    /// <see cref="AllowsAll"/> does not enter here: it turns off the refusal, not the question of
    /// whether a name is local (CORS asks it too).
    /// </remarks>
    public bool IsAllowed(ReadOnlySpan<char> hostHeader)
    {
        var host = HostPart(hostHeader);
        Span<byte> address = stackalloc byte[16];
        if (TryParseAddress(host, address, out var length))
        {
            address = address[..length];
            if (IsLoopback(address) || IsPrivate(address) || IsUnspecified(address) || IsLocalAddress(address))
            {
                return true;
            }
        }

        if (host.IsEmpty || host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var name in _names)
        {
            if (host.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var suffix in s_localSuffixes)
        {
            if (host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        // Asked each time, as Ollama does (os.Hostname): a host renamed while the proxy runs is
        // still itself. Only names that passed none of the cheaper tests get here.
        return host.Equals(Dns.GetHostName(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Go's <c>net.SplitHostPort</c> host part: <c>[v6]:port</c> gives the address inside the
    /// brackets, <c>name:port</c> the name (the port may be empty); a value it rejects (no port,
    /// more than one colon, stray brackets) is returned whole, as Ollama then uses it.
    /// </summary>
    internal static ReadOnlySpan<char> HostPart(ReadOnlySpan<char> hostHeader)
    {
        if (hostHeader.StartsWith('['))
        {
            var close = hostHeader.IndexOf(']');
            if (close < 0
                || close + 1 >= hostHeader.Length
                || hostHeader[close + 1] != ':'
                || hostHeader[1..close].IndexOfAny('[', ']') >= 0
                || hostHeader[(close + 1)..].IndexOfAny('[', ']') >= 0)
            {
                return hostHeader;
            }

            return hostHeader[1..close];
        }

        var colon = hostHeader.LastIndexOf(':');
        if (colon < 0)
        {
            return hostHeader;
        }

        var host = hostHeader[..colon];
        return host.IndexOf(':') >= 0 || hostHeader.IndexOfAny('[', ']') >= 0 ? hostHeader : host;
    }

    /// <summary>
    /// Go's <c>netip.ParseAddr</c>, which is stricter than <see cref="IPAddress.TryParse(ReadOnlySpan{char}, out IPAddress?)"/>:
    /// IPv4 only as four decimal numbers without leading zeros (no <c>127.1</c>, no <c>0x7f.0.0.1</c>,
    /// no <c>2130706433</c>), IPv6 without brackets. Writes the 4 or 16 address bytes, without allocating
    /// for IPv4, the usual Host.
    /// </summary>
    internal static bool TryParseAddress(ReadOnlySpan<char> text, Span<byte> destination, out int length)
    {
        length = 0;
        if (text.IndexOf(':') >= 0)
        {
            if (text.IndexOfAny('[', ']') >= 0
                || !IPAddress.TryParse(text, out var v6)
                || v6.AddressFamily != AddressFamily.InterNetworkV6
                || v6.ScopeId != 0)
            {
                // A zone (fe80::1%eth0) never equals a loopback, private or interface address in Go either.
                return false;
            }

            return v6.TryWriteBytes(destination, out length);
        }

        var part = 0;
        var digits = 0;
        var value = 0;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (digits == 0 || part == 3)
                {
                    return false;
                }

                destination[part++] = (byte)value;
                digits = 0;
                value = 0;
            }
            else if (char.IsAsciiDigit(c))
            {
                if (digits > 0 && value == 0)
                {
                    return false;
                }

                value = (value * 10) + (c - '0');
                digits++;
                if (value > 255)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        if (digits == 0 || part != 3)
        {
            return false;
        }

        destination[3] = (byte)value;
        length = 4;
        return true;
    }

    // netip.Addr.IsLoopback and IsPrivate look through an IPv4-mapped IPv6 address (::ffff:a.b.c.d);
    // IsUnspecified does not.
    private static bool IsLoopback(ReadOnlySpan<byte> address)
    {
        var v4 = Unmap(address);
        return v4.Length == 4 ? v4[0] == 127 : address[..15].IndexOfAnyExcept((byte)0) < 0 && address[15] == 1;
    }

    private static bool IsPrivate(ReadOnlySpan<byte> address)
    {
        var v4 = Unmap(address);
        return v4.Length == 4
            ? v4[0] == 10 || (v4[0] == 172 && (v4[1] & 0xF0) == 16) || (v4[0] == 192 && v4[1] == 168)
            : (address[0] & 0xFE) == 0xFC;
    }

    private static bool IsUnspecified(ReadOnlySpan<byte> address) => address.IndexOfAnyExcept((byte)0) < 0;

    // The IPv4 address inside ::ffff:a.b.c.d, the IPv4 address itself, or empty for other IPv6.
    private static ReadOnlySpan<byte> Unmap(ReadOnlySpan<byte> address) =>
        address.Length == 4 ? address
        : address[..10].IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xFF && address[11] == 0xFF ? address[12..]
        : [];

    // isLocalIP: an address of one of this machine's interfaces, read each time as Ollama does.
    // Go compares the interface address without its zone (net.ParseCIDR drops it): bytes alone.
    private static bool IsLocalAddress(ReadOnlySpan<byte> address)
    {
        Span<byte> own = stackalloc byte[16];
        try
        {
            foreach (var networkInterface in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in networkInterface.GetIPProperties().UnicastAddresses)
                {
                    if (unicast.Address.TryWriteBytes(own, out var length) && own[..length].SequenceEqual(address))
                    {
                        return true;
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Ollama treats an unreadable interface list as "not local".
        }

        return false;
    }
}
