using System.Net;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Connections;

/// <summary>
/// What a connection carries besides its URL: its own header fields, read from a variable or a
/// file and sent with every request to it, the client's and the proxy's own, never logged; and
/// the CA bundle its HTTPS certificate is checked against.
/// </summary>
public sealed class ConnectionExtrasTests : TwoServersTest
{
    private const string Secret = "Bearer s3cret-value";

    [Fact]
    public async Task AHeaderFromAVariable_ReachesTheServer_Once_OnForwardedAndOwnRequests_AndNeverTheLog()
    {
        Proxy = await ProxyUnderTest.StartAsync(
            ["llama3.2=a"],
            connections: [$"a={A.BaseUri}"],
            input: input => input.With(Settings.ConnectionHeaders, [new ConfigEntry("a=Authorization=env:OLLAMA_AUTH", "--connection-header")])
                with { GetEnvironmentVariable = static name => name == "OLLAMA_AUTH" ? Secret : null });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2","stream":false}""") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer the-client's");
        request.Headers.TryAddWithoutValidation("x-api-key", "the-client's");
        using var chat = await Proxy.Client.SendAsync(request).DefaultTimeout();
        using var tags = await Proxy.Client.GetAsync("/api/tags").DefaultTimeout();

        chat.StatusCode.Should().Be(HttpStatusCode.OK);
        tags.StatusCode.Should().Be(HttpStatusCode.OK);
        var forwarded = A.Requests.Single(static r => r.Path == "/api/chat");
        forwarded.Headers["Authorization"].Should().Be(Secret, "the connection's field replaces the client's: one Authorization");
        forwarded.Headers.Should().NotContainKey("x-api-key", "the client's credentials do not mix with the connection's");
        A.Requests.Single(static r => r.Path == "/api/tags").Headers["Authorization"].Should().Be(Secret, "the proxy's own requests carry it too");
        Proxy.Logs.Lines.Should().NotContain(static l => l.Contains("s3cret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHeaderFromAFile_WithoutItsLineBreak_ReplacesTheClientsFieldOfTheSameName()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "tenant-7\n");
            Proxy = await ProxyUnderTest.StartAsync(
                ["llama3.2=a", "phi4=b"],
                connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"],
                input: input => input.With(Settings.ConnectionHeaders, [new ConfigEntry($"a=X-Tenant=file:{file}", "--connection-header")]));

            foreach (var model in new[] { "llama3.2", "phi4" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent($$"""{"model":"{{model}}","stream":false}""") };
                request.Headers.TryAddWithoutValidation("X-TENANT", "someone-else");
                using var response = await Proxy.Client.SendAsync(request).DefaultTimeout();
                response.StatusCode.Should().Be(HttpStatusCode.OK);
            }

            A.Requests.Single(static r => r.Path == "/api/chat").Headers["X-Tenant"].Should().Be("tenant-7");
            B.Requests.Single(static r => r.Path == "/api/chat").Headers["X-Tenant"].Should().Be("someone-else", "another connection passes the client's field on");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AnHttpsServerWithAPrivateCertificate_IsUnreachable_UntilItsCaBundleIsGiven()
    {
        using var certificate = TestCertificates.CreateLoopback();
        await using var https = await FakeOllamaServer.StartAsync("tls", certificate);
        var bundle = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(bundle, certificate.ExportCertificatePem());
            await using (var untrusted = await ProxyUnderTest.StartAsync(["llama3.2=tls"], connections: [$"tls={https.BaseUri}"]))
            {
                using var refused = await untrusted.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}""")).DefaultTimeout();
                refused.StatusCode.Should().Be(HttpStatusCode.BadGateway, "the system does not trust the server's certificate");
            }

            Proxy = await ProxyUnderTest.StartAsync(
                ["llama3.2=tls"],
                connections: [$"tls={https.BaseUri}"],
                input: input => input.With(Settings.ConnectionCas, [new ConfigEntry($"tls={bundle}", "--connection-ca")]));
            using var served = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}""")).DefaultTimeout();

            served.StatusCode.Should().Be(HttpStatusCode.OK);
            https.Requests.Should().Contain(static r => r.Path == "/api/chat");
        }
        finally
        {
            File.Delete(bundle);
        }
    }
}
