using System.Net;
using System.Text;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Security;

/// <summary>
/// A user and password in a connection URL: sent to that server as Basic authentication on every
/// request, and shown nowhere (error bodies, logs, metrics on either listener).
/// </summary>
public sealed class ConnectionCredentialsTests : TwoServersTest
{
    // Percent-encoded in the URL as an operator must write '$' and '@'; each part distinctive
    // enough that finding it anywhere is a leak, whatever the encoding it appears in.
    private const string User = "operator-zork";
    private const string Password = "pa$$@XYZZY";
    private const string EncodedPassword = "pa%24%24%40XYZZY";

    private static readonly string s_expectedAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));

    [Fact]
    public async Task CredentialsInTheUrl_SentAsBasicAuthorization_InsteadOfTheClients()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={WithCredentials(A.BaseUri)}"]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2"}""") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer client-token");
        request.Headers.TryAddWithoutValidation("x-api-key", "client-key");

        using var response = await Proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await A.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout();
        received.Headers["Authorization"].Should().Be(s_expectedAuthorization, "one Authorization field, the operator's");
        received.Headers.Should().NotContainKey("x-api-key");
    }

    [Fact]
    public async Task CredentialsInTheUrl_SentWithProbesAndLists()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={WithCredentials(A.BaseUri)}"]);

        await Proxy.ProbeRoundAsync();
        using var tags = await Proxy.Client.GetAsync("/api/tags");

        tags.StatusCode.Should().Be(HttpStatusCode.OK);
        A.Requests.Should().Contain(r => r.Path == "/api/tags").And.Contain(r => r.Path == "/api/version");
        A.Requests.Should().OnlyContain(r => r.Headers["Authorization"] == s_expectedAuthorization);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CredentialsInTheUrl_AppearInNoErrorBodyLogLineOrMetric(bool separateMetricsListener)
    {
        var dead = RawLoopbackServer.ClosedPortUri();
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={WithCredentials(A.BaseUri)}", $"qwen3:8b={WithCredentials(dead)}", "phi4=gpu9"],
            connections: [$"gpu9={WithCredentials(new Uri($"http://localhost:{dead.Port}/"))}"],
            adjust: options => separateMetricsListener ? options with { Metrics = new MetricsOptions { Listen = new ListenAddress("127.0.0.1", 0) } } : options);
        using var scraper = separateMetricsListener
            ? new HttpClient { BaseAddress = Proxy.Server.Addresses[1], Timeout = TestTimeouts.Default }
            : Proxy.Client;
        var bodies = new List<string>();

        foreach (var (path, body) in new[]
        {
            ("/api/chat", """{"model":"llama3.2"}"""),
            ("/api/chat", """{"model":"qwen3:8b"}"""),
            ("/v1/chat/completions", """{"model":"qwen3:8b"}"""),
            ("/api/chat", """{"model":"phi4"}"""),
        })
        {
            using var response = await Proxy.Client.PostAsync(path, new StringContent(body));
            bodies.Add(await response.Content.ReadAsStringAsync());
        }

        bodies.Add(await Proxy.Client.GetStringAsync("/api/tags"));
        using (var show = await Proxy.Client.GetAsync("/v1/models/qwen3:8b"))
        {
            show.StatusCode.Should().Be(HttpStatusCode.BadGateway);
            bodies.Add(await show.Content.ReadAsStringAsync());
        }

        await Proxy.ProbeRoundAsync();
        await Proxy.Logs.WaitForAsync(l => l.Contains("GET /v1/models/qwen3:8b 502", StringComparison.Ordinal)).DefaultTimeout();
        var metrics = await scraper.GetStringAsync("/metrics");
        bodies.Add(metrics);

        bodies[1].Should().StartWith("""{"error":"gollamas: Ollama server on connection 3 is unreachable: """);
        bodies[3].Should().StartWith("""{"error":"gollamas: Ollama server on connection 'gpu9' is unreachable: """);
        metrics.Should().Contain($"gollamas_upstream_errors_total{{connection=\"127.0.0.1:{dead.Port}\",kind=\"unreachable\"}} 2");
        Proxy.Logs.Lines.Should().Contain(l => l == $"Information: Ollama server http://127.0.0.1:{dead.Port}/ is connection 3 in error messages and connection=\"127.0.0.1:{dead.Port}\" in metrics", "the log keeps the URL for the operator");
        foreach (var text in bodies.Concat(Proxy.Logs.Lines))
        {
            text.Should().NotContainAny(User, "XYZZY", EncodedPassword, s_expectedAuthorization["Basic ".Length..]);
        }
    }

    private static string WithCredentials(Uri server) => $"http://{User}:{EncodedPassword}@{server.Authority}/";
}
