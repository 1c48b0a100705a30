using System.Net;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Routing;

/// <summary>
/// One model on two servers: the least busy route first, failover before the first byte. The
/// request/answer tests use /api/show, which does not load the model, so that the preference for
/// a server with the model loaded (HealthTests) does not decide the order here.
/// </summary>
public sealed class SeveralRoutesTests : TwoServersTest
{
    private const string Path = "/api/show";
    private const string Show = """{"model":"llama3.2"}""";

    [Fact]
    public async Task TwoConcurrentStreams_GoToTheLessBusyRouteEach()
    {
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        // Each script serves one request: were both streams sent to one server, its second
        // request would be refused and the other script would never start.
        using var chats = await OpenHeldChatOnEachServerAsync(proxy);

        chats.First.StatusCode.Should().Be(HttpStatusCode.OK);
        chats.Second.StatusCode.Should().Be(HttpStatusCode.OK);
        chats.ReleaseA.Open();
        chats.ReleaseB.Open();
        await Task.WhenAll(chats.OnA.Completed, chats.OnB.Completed).DefaultTimeout();
    }

    [Fact]
    public async Task SequentialRequests_EqualRoutesTakeTurns()
    {
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        for (var i = 0; i < 4; i++)
        {
            using var response = await proxy.Client.PostAsync(Path, new StringContent(Show));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        A.Requests.Should().HaveCount(2);
        B.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task DeadRoute_EveryRequestIsServedByTheOtherWithoutAClientError()
    {
        var proxy = await StartAsync(RawLoopbackServer.ClosedPortUri(), B.BaseUri);

        for (var i = 0; i < 2; i++)
        {
            using var response = await proxy.Client.PostAsync(Path, new StringContent(Show));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        B.Requests.Should().HaveCount(2);
        proxy.Logs.Lines.Should().Contain(l => l.StartsWith("Warning: Model llama3.2: ", StringComparison.Ordinal) && l.Contains("failed (unreachable); trying the next route", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(429)]
    public async Task RouteAnswering5xxOr429_SameBodyGoesToTheOtherRoute(int status)
    {
        Refuse(A, status);
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        for (var i = 0; i < 2; i++)
        {
            using var response = await proxy.Client.PostAsync(Path, new StringContent(Show));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // Turns alternate, so one of the two requests tried a first, then b.
        A.Requests.Should().ContainSingle();
        B.Requests.Should().HaveCount(2).And.OnlyContain(r => r.BodyText == Show);
    }

    [Fact]
    public async Task RouteAnswering4xx_PassedToTheClientAsIs()
    {
        A.UnknownModels.Add("llama3.2");
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            using var response = await proxy.Client.PostAsync(Path, new StringContent(Show));
            statuses.Add(response.StatusCode);
        }

        statuses.Should().BeEquivalentTo([HttpStatusCode.OK, HttpStatusCode.NotFound]);
        A.Requests.Should().ContainSingle();
        B.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task EveryRouteDead_502FromTheLastOneTried()
    {
        var proxy = await StartAsync(RawLoopbackServer.ClosedPortUri(), RawLoopbackServer.ClosedPortUri());

        using var response = await proxy.Client.PostAsync(Path, new StringContent(Show));

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should().MatchRegex("""^\{"error":"gollamas: Ollama server on connection [12] is unreachable: [^"]+"\}$""");
    }

    [Fact]
    public async Task EveryRouteRefusing_TheLastAnswerReachesTheClient()
    {
        Refuse(A, 503);
        Refuse(B, 503);
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        using var response = await proxy.Client.PostAsync(Path, new StringContent(Show));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"server busy, please try again.  maximum pending requests exceeded"}""");
        A.Requests.Should().ContainSingle();
        B.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task StreamBrokenAfterTheFirstByte_NotRetriedElsewhere()
    {
        var onA = CutStream(out var cutA);
        var onB = CutStream(out var cutB);
        A.MapScript("POST", "/api/chat", onA);
        B.MapScript("POST", "/api/chat", onB);
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        // Two streams in turn, each cut by its server after the first line: each client sees the
        // line and then the in-band error, and no server gets a second request.
        for (var i = 0; i < 2; i++)
        {
            using var response = await OpenChatAsync(proxy);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"first\"");
            var cut = onA.Started.IsCompletedSuccessfully && !cutA.IsOpen ? cutA : cutB;
            cut.IsOpen.Should().BeFalse();
            cut.Open();
            (await reader.ReadLineAsync().DefaultTimeout()).Should().StartWith("""{"error":"gollamas: the stream from the Ollama server on connection """);
        }

        A.Requests.Should().ContainSingle();
        B.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task LaterTurnsOfAConversation_GoWhereItsEarlierTurnsWent_OtherConversationsSpread()
    {
        A.Running = [new FakeModel("llama3.2:latest")];
        B.Running = [new FakeModel("llama3.2:latest")];
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);
        await proxy.ProbeRoundAsync();
        var system = string.Join(' ', Enumerable.Repeat("You answer questions about the weather in plain words.", 80));

        // Three turns of one conversation: each resends the history, which grows.
        var history = new List<string> { $$"""{"role":"system","content":"{{system}}"}""", """{"role":"user","content":"Will it rain?"}""" };
        for (var turn = 0; turn < 3; turn++)
        {
            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent($$"""{"model":"llama3.2","stream":false,"messages":[{{string.Join(',', history)}}]}"""));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            history.Add("""{"role":"assistant","content":"Perhaps."}""");
            history.Add($$"""{"role":"user","content":"And on day {{turn + 2}}?"}""");
        }

        var chats = A.Requests.Count(static r => r.Path == "/api/chat");
        (chats == 3 || B.Requests.Count(static r => r.Path == "/api/chat") == 3).Should().BeTrue("every turn went to one server (A had {0})", chats);

        // First turns of other conversations take turns as before.
        for (var other = 0; other < 4; other++)
        {
            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent($$"""{"model":"llama3.2","stream":false,"messages":[{"role":"system","content":"{{system}} {{other}}"},{"role":"user","content":"Hello"}]}"""));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        A.Requests.Count(static r => r.Path == "/api/chat").Should().BeInRange(chats + 1, chats + 3);
    }

    [Fact]
    public async Task Metrics_ShowTheRouteChoicesEstimates_AndTheGenerationsInFlight()
    {
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        using (var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false,"messages":[]}""")))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var text = await proxy.Client.GetStringAsync("/metrics");

        // Cold on both, nothing observed yet: the default load of 8 s and a prefill of a few tokens.
        System.Text.RegularExpressions.Regex.Matches(text, "^gollamas_route_estimate_seconds\\{model=\"llama3.2\",connection=\"127.0.0.1:[0-9]+\"\\} 8\\.0[0-9]*$", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Should().HaveCount(2);
        System.Text.RegularExpressions.Regex.Matches(text, "^gollamas_model_generations_in_flight\\{model=\"llama3.2\",connection=\"127.0.0.1:[0-9]+\"\\} 0$", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Should().HaveCount(2, "the chat has ended");
    }

    private async Task<ProxyUnderTest> StartAsync(Uri first, Uri second)
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={first}", $"llama3.2={second}"]);
        return Proxy;
    }

    private static StreamScript CutStream(out StreamGate cut)
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":"first"},"done":false}"""));
        script.AbortAfter(0, out cut);
        return script;
    }

    private static void Refuse(FakeOllamaServer fake, int status) =>
        fake.Map("POST", Path, (context, _) =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json; charset=utf-8";
            return context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("""{"error":"server busy, please try again.  maximum pending requests exceeded"}"""), context.RequestAborted).AsTask();
        });
}
