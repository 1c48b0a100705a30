using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gollamas.Tests.Cli;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Robustness;

/// <summary>
/// The usual failures, through the real paths, and what a user reads about them: client error
/// bodies, log lines and start-up errors are sentences of ours, never a runtime's message (a
/// resource key in the published binary) nor a .NET name.
/// </summary>
public sealed class PlainWordsTests
{
    [Theory]
    [InlineData("""{"model":""", "unexpected end of JSON input at byte offset 9")]
    [InlineData("""{"model" "llama3.2"}""", "expected ':' after the property name at byte offset 9")]
    [InlineData("""{"model":"llama3.2","stream":flase}""", "invalid literal (true, false or null) at byte offset 29")]
    [InlineData("""{"model":"llama3.2",}""", "expected a value after ',' at byte offset 20")]
    [InlineData("""{"model":"llama3.2"  "x":1}""", "expected ',' or a closing bracket at byte offset 21")]
    public async Task Chat_BadJson_400SaysWhatAndWhereInWordsOfOurs(string body, string detail)
    {
        await using var server = await FakeOllamaServer.StartAsync("a");
        await using var proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={server.BaseUri}"]);

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var text = await response.Content.ReadAsStringAsync();
        ErrorOf(text).Should().Be("invalid JSON in request body: " + detail);
        ResourceKeys.ShouldHaveNone([text, .. proxy.Logs.Lines]);
    }

    [Fact]
    public async Task Chat_ServerCertificateFromAnUnknownCa_502SaysGiveItsCa()
    {
        using var certificate = TestCertificates.CreateLoopback();
        await using var server = TlsHandshakeServer.Start(certificate);
        await using var proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={server.BaseUri}"]);

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        var text = await response.Content.ReadAsStringAsync();
        ErrorOf(text).Should().Be("gollamas: Ollama server on connection 1 is unreachable: the server's TLS certificate is not trusted: give its CA with --connection-ca ID=PATH");
        ResourceKeys.ShouldHaveNone([text, .. proxy.Logs.Lines]);
    }

    [Fact]
    public async Task Chat_ServerCertificateExpired_502SaysWhenItExpired()
    {
        var expired = DateTimeOffset.UtcNow.AddDays(-2);
        using var certificate = CreateLoopback(expired.AddDays(-30), expired);
        var bundle = Path.GetTempFileName();
        await File.WriteAllTextAsync(bundle, certificate.ExportCertificatePem());
        try
        {
            await using var server = TlsHandshakeServer.Start(certificate);
            await using var proxy = await ProxyUnderTest.StartAsync(
                proxies: [$"llama3.2={server.BaseUri}"],
                input: input => input.With(Gollamas.Config.Settings.ConnectionCas, [new Gollamas.Config.ConfigEntry($"{server.BaseUri}={bundle}", "--connection-ca")]));

            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

            response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
            var text = await response.Content.ReadAsStringAsync();
            var date = certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
            ErrorOf(text).Should().Be($"gollamas: Ollama server on connection 1 is unreachable: the server's TLS certificate expired on {date} UTC");
            ResourceKeys.ShouldHaveNone([text, .. proxy.Logs.Lines]);
        }
        finally
        {
            File.Delete(bundle);
        }
    }

    [Fact]
    public async Task Chat_ServerCertificateForAnotherName_502SaysSoWithoutTheServersAddress_TheLogNamesIt()
    {
        using var certificate = CreateFor("gpu-7.cluster.internal", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var bundle = Path.GetTempFileName();
        await File.WriteAllTextAsync(bundle, certificate.ExportCertificatePem());
        try
        {
            await using var server = TlsHandshakeServer.Start(certificate);
            await using var proxy = await ProxyUnderTest.StartAsync(
                proxies: [$"llama3.2={server.BaseUri}"],
                input: input => input.With(Gollamas.Config.Settings.ConnectionCas, [new Gollamas.Config.ConfigEntry($"{server.BaseUri}={bundle}", "--connection-ca")]));

            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

            response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
            var text = await response.Content.ReadAsStringAsync();
            ErrorOf(text).Should().Be("gollamas: Ollama server on connection 1 is unreachable: the server's TLS certificate is not for the host name in the connection's URL");
            text.Should().NotContain("127.0.0.1");
            proxy.Logs.Lines.Should().Contain(line => line.Contains(server.BaseUri.ToString()) && line.Contains("is not for the host name"));
        }
        finally
        {
            File.Delete(bundle);
        }
    }

    [Fact]
    public async Task Chat_ConnectionRefused_502SaysConnectionRefused()
    {
        var closed = ClosedPort();
        await using var proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2=http://127.0.0.1:{closed}"]);

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        var text = await response.Content.ReadAsStringAsync();
        text.Should().Be("""{"error":"gollamas: Ollama server on connection 1 is unreachable: connection refused"}""");
        ResourceKeys.ShouldHaveNone([text, .. proxy.Logs.Lines]);
    }

    [Fact]
    public async Task Chat_ConnectionTimedOut_504SaysHowLongItWaited()
    {
        using var listener = new UnacceptingListener();
        await using var proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={listener.BaseUri}"],
            adjust: options => options with { Limits = options.Limits with { ConnectTimeout = TimeSpan.FromMilliseconds(300) } });

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        var text = await response.Content.ReadAsStringAsync();
        text.Should().Be("""{"error":"gollamas: Ollama server on connection 1 timed out: no connection within 300ms"}""");
        ResourceKeys.ShouldHaveNone([text, .. proxy.Logs.Lines]);
    }

    [Theory]
    [InlineData("--api-keys-file", "{0}", "--api-keys-file \"{0}\": no such file")]
    [InlineData("--config", "{0}", "--config \"{0}\": no such file")]
    [InlineData("--connection-header", "http://127.0.0.1:1=Authorization=file:{0}", "cannot read {0} (file not found)")]
    [InlineData("--connection-ca", "https://127.0.0.1:1={0}", "cannot read {0} (file not found)")]
    public async Task Start_MissingFile_ErrorSaysFileNotFound(string flag, string value, string message)
    {
        var missing = Path.Combine(Path.GetTempPath(), "gollamas-missing-" + Guid.NewGuid().ToString("N"), "file");
        var proxy = flag == "--connection-ca" ? "llama3.2=https://127.0.0.1:1" : "llama3.2=http://127.0.0.1:1";

        var run = await GollamasCommandTests.InvokeAsync(["--proxy", proxy, flag, string.Format(System.Globalization.CultureInfo.InvariantCulture, value, missing)]);

        run.ExitCode.Should().Be(Gollamas.Hosting.ExitCodes.ConfigError);
        run.Error.Should().Contain(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, missing));
        ResourceKeys.ShouldHaveNone(run.Error.Split('\n'));
    }

    [Fact]
    public async Task Start_ConfigFileIsADirectory_ErrorSaysSo()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gollamas-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var run = await GollamasCommandTests.InvokeAsync(["--proxy", "llama3.2=http://127.0.0.1:1", "--config", directory]);

            run.ExitCode.Should().Be(Gollamas.Hosting.ExitCodes.ConfigError);
            run.Error.Should().Contain("is a directory");
            ResourceKeys.ShouldHaveNone(run.Error.Split('\n'));
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    private static string? ErrorOf(string body)
    {
        using var document = System.Text.Json.JsonDocument.Parse(body);
        return document.RootElement.GetProperty("error").GetString();
    }

    private static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A self-signed certificate for 127.0.0.1 valid between the two times.</summary>
    private static X509Certificate2 CreateLoopback(DateTimeOffset notBefore, DateTimeOffset notAfter) =>
        CreateFor(null, notBefore, notAfter);

    // A CA-flagged self-signed certificate for 127.0.0.1, or for dnsName alone when given.
    private static X509Certificate2 CreateFor(string? dnsName, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(dnsName is null ? "CN=127.0.0.1" : $"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        if (dnsName is null)
        {
            san.AddIpAddress(IPAddress.Loopback);
        }
        else
        {
            san.AddDnsName(dnsName);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        return request.CreateSelfSigned(notBefore, notAfter);
    }
}
