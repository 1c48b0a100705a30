using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Published;

/// <summary>
/// The published binary, built with UseSystemResourceKeys, where any runtime message would be a
/// resource key: the usual failures it reports (bad JSON, broken framing, a certificate it does
/// not trust, a refused connection, a missing file) read as sentences in bodies and logs alike.
/// </summary>
public sealed partial class PlainWordsBinaryTests
{
    [Fact]
    public async Task Binary_UsualFailures_NoResourceKeyInBodiesOrLogs()
    {
        using var certificate = TestCertificates.CreateLoopback();
        await using var tls = TlsHandshakeServer.Start(certificate);
        var closed = ClosedPort();
        await using var proxy = await RunningBinary.StartAsync(
            "--listen", "127.0.0.1:0",
            "--proxy", $"tls={tls.BaseUri}",
            "--proxy", $"refused=http://127.0.0.1:{closed}",
            "--level", "debug");
        var address = await proxy.ListeningAsync();
        using var client = new HttpClient { BaseAddress = address, Timeout = TestTimeouts.Default };
        var bodies = new List<string>();

        foreach (var body in new[] { """{"model":""", """{"model" "tls"}""", """{"model":"tls","stream":flase}""", """[1,]""", """{"model":"tls"}""", """{"model":"refused"}""" })
        {
            using var response = await client.PostAsync("/api/chat", new StringContent(body));
            bodies.Add(await response.Content.ReadAsStringAsync());
        }

        bodies.Add(await SendRawAsync(address, "POST /api/chat HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n"));
        proxy.Terminate();
        await proxy.WaitForExitAsync();

        bodies.Should().Contain(b => b.Contains("invalid JSON in request body: unexpected end of JSON input at byte offset 9", StringComparison.Ordinal));
        bodies.Should().Contain(b => b.Contains("TLS certificate is not trusted: give its CA with --connection-ca ID=PATH", StringComparison.Ordinal));
        bodies.Should().Contain(b => b.Contains("is unreachable: connection refused", StringComparison.Ordinal));
        ResourceKeys.ShouldHaveNone(bodies);
        ResourceKeys.ShouldHaveNone(proxy.Stderr.Split('\n').Select(static line => LogPrefix().Replace(line, "")));
    }

    [Theory]
    [InlineData("--api-keys-file")]
    [InlineData("--config")]
    [InlineData("--tls-cert")]
    public async Task Binary_MissingFile_OneSentenceAndConfigError(string flag)
    {
        var missing = Path.Combine(Path.GetTempPath(), "gollamas-missing-" + Guid.NewGuid().ToString("N"), "file");
        await using var proxy = await RunningBinary.StartAsync("--proxy", "llama3.2=http://127.0.0.1:1", flag, missing, "--tls-key", missing);

        (await proxy.WaitForExitAsync()).Should().NotBe(0);

        proxy.Stderr.Should().Contain(missing);
        ResourceKeys.ShouldHaveNone(proxy.Stderr.Split('\n'));
    }

    private static async Task<string> SendRawAsync(Uri address, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(address.Host, address.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer.AsMemory()).AsTask().DefaultTimeout()) > 0)
        {
            answer.Write(buffer, 0, read);
        }

        var text = Encoding.UTF8.GetString(answer.ToArray());
        return text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }

    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    // "2026-12-03T17:04:46.805Z warn: Gollamas.Fleet.HealthMonitor[403] ": the category is a .NET name by design.
    [GeneratedRegex(@"^\S+ \w+: [\w.]+\[\d+\] ")]
    private static partial Regex LogPrefix();
}
