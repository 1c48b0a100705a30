using System.Net;
using Gollamas.Security;

namespace Gollamas.Tests.Security;

/// <summary>
/// The Host rule alone, as Ollama's allowedHostsMiddleware and allowedHost (server/routes.go)
/// decide it: Go's SplitHostPort and netip.ParseAddr tell a name from an address.
/// </summary>
public sealed class HostAllowListTests
{
    private static readonly HostAllowList s_local = new([]);

    [Theory]
    [InlineData("")]
    [InlineData("localhost")]
    [InlineData("LOCALHOST:11434")]
    [InlineData("localhost:")]
    [InlineData("app.localhost:3000")]
    [InlineData("printer.local")]
    [InlineData("host.docker.internal:11434")]
    [InlineData("Host.Docker.Internal")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:11434")]
    [InlineData("127.9.8.7:1")]
    [InlineData("[::1]:11434")]
    [InlineData("::1")]
    [InlineData("[::ffff:127.0.0.1]:80")]
    [InlineData("10.0.0.5:11434")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.20:8080")]
    [InlineData("[fd00::1]:80")]
    [InlineData("[fc00::1]:80")]
    [InlineData("0.0.0.0:11434")]
    [InlineData("[::]:11434")]
    public void LocalNamesAndAddresses_Allowed(string host)
    {
        s_local.IsAllowed(host).Should().BeTrue();
    }

    [Theory]
    [InlineData("attacker.example")]
    [InlineData("attacker.example:11434")]
    [InlineData("localhost.attacker.example")]
    [InlineData("127.0.0.1.nip.io:11434")]
    [InlineData("local")]
    [InlineData("internal:80")]
    [InlineData("localhost.")]
    [InlineData("8.8.8.8:11434")]
    [InlineData("172.32.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("[2001:db8::1]:11434")]
    [InlineData("[::ffff:8.8.8.8]:80")]
    [InlineData("[::ffff:0.0.0.0]:80")]
    public void ForeignNamesAndAddresses_Refused(string host)
    {
        s_local.IsAllowed(host).Should().BeFalse();
    }

    [Theory]
    [InlineData("127.1")]
    [InlineData("127.0.0.01")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("2130706433")]
    [InlineData("[::1]")]
    public void LoopbackSpellingsGoDoesNotParse_RefusedAsOllamaRefusesThem(string host)
    {
        // netip.ParseAddr takes only dotted decimal without leading zeros; "[::1]" without a port
        // fails SplitHostPort and is then not an address either. Browsers send neither form.
        s_local.IsAllowed(host).Should().BeFalse();
    }

    [Fact]
    public void ThisMachinesHostName_Allowed()
    {
        var name = Dns.GetHostName();

        s_local.IsAllowed(name.ToUpperInvariant() + ":11434").Should().BeTrue();
    }

    [Fact]
    public void EveryAddressOfThisMachine_Allowed()
    {
        // Ollama's isLocalIP: public and link-local addresses of the interfaces count as local too.
        var addresses = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(static i => i.GetIPProperties().UnicastAddresses)
            .Select(static u => new IPAddress(u.Address.GetAddressBytes()))
            .ToList();

        addresses.Should().NotBeEmpty();
        addresses.Should().OnlyContain(a => s_local.IsAllowed(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{a}]:11434" : $"{a}:11434"));
    }

    [Theory]
    [InlineData("ollama.example.com", true)]
    [InlineData("OLLAMA.EXAMPLE.COM:8443", true)]
    [InlineData("gpu.ollama.example.com", false)]
    [InlineData("example.com", false)]
    public void OperatorNames_AddedExactlyAnyCaseAnyPort(string host, bool allowed)
    {
        var list = new HostAllowList(["ollama.example.com"]);

        list.IsAllowed(host).Should().Be(allowed);
        list.AllowsAll.Should().BeFalse();
    }

    [Fact]
    public void Star_AllowsAllButDoesNotMakeAForeignNameLocal()
    {
        var list = new HostAllowList(["*"]);

        list.AllowsAll.Should().BeTrue();
        list.IsAllowed("attacker.example").Should().BeFalse();
    }

    [Theory]
    [InlineData("[::1]:80", "::1")]
    [InlineData("name:80", "name")]
    [InlineData("name:", "name")]
    [InlineData("name", "name")]
    [InlineData("::1", "::1")]
    [InlineData("[::1]", "[::1]")]
    [InlineData("[::1]x80", "[::1]x80")]
    [InlineData("a[b]:80", "a[b]:80")]
    public void HostPart_AsGoSplitHostPortOrTheWholeValue(string header, string host)
    {
        HostAllowList.HostPart(header).ToString().Should().Be(host);
    }
}
