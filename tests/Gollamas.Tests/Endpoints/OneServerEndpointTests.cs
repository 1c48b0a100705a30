using System.Net;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Endpoints;

/// <summary>
/// The endpoints of no model that one server answers for all (web search and fetch, model
/// recommendations, who the server is signed in as): the first server that is up gets the
/// request as it came, a failure before the first byte moves it to the next, and its answer
/// passes through whole.
/// </summary>
public sealed class OneServerEndpointTests : TwoServersTest
{
    private const string SearchBody = """{"query":"what is ollama?","max_results":2}""";
    private const string SearchAnswer = """{"results":[{"title":"Ollama","url":"https://ollama.com","content":"Get up and running"}]}""";

    [Theory]
    [InlineData("POST", "/api/experimental/web_search", SearchBody)]
    [InlineData("POST", "/api/experimental/web_fetch", """{"url":"https://ollama.com"}""")]
    [InlineData("POST", "/api/me", "")]
    [InlineData("GET", "/api/experimental/model-recommendations", "")]
    public async Task Endpoint_BothServersUp_TheFirstAnswersAsItCameAndTheSecondHearsNothing(string method, string path, string body)
    {
        Answer(A, method, path, 200, SearchAnswer);
        Answer(B, method, path, 200, """{"results":[]}""");
        Proxy = await StartProxyAsync();

        using var request = new HttpRequestMessage(new HttpMethod(method), path + "?x=1");
        if (body.Length > 0)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await Proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be(SearchAnswer);
        var received = await A.WaitForRequestAsync(r => r.Path == path).DefaultTimeout();
        received.Method.Should().Be(method);
        received.QueryString.Should().Be("?x=1");
        received.BodyText.Should().Be(body);
        B.Requests.Should().NotContain(r => r.Path == path);
    }

    [Fact]
    public async Task WebSearch_FirstServerAnswers503_TheSecondAnswers()
    {
        Answer(A, "POST", "/api/experimental/web_search", 503, """{"error":"server busy"}""");
        Answer(B, "POST", "/api/experimental/web_search", 200, SearchAnswer);
        Proxy = await StartProxyAsync();

        using var response = await Proxy.Client.PostAsync("/api/experimental/web_search", new StringContent(SearchBody));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(SearchAnswer);
        (await A.WaitForRequestAsync(r => r.Path == "/api/experimental/web_search").DefaultTimeout()).BodyText.Should().Be(SearchBody);
        (await B.WaitForRequestAsync(r => r.Path == "/api/experimental/web_search").DefaultTimeout()).BodyText.Should().Be(SearchBody);
    }

    [Fact]
    public async Task WebSearch_FirstServerGone_TheSecondAnswers()
    {
        Answer(B, "POST", "/api/experimental/web_search", 200, SearchAnswer);
        Proxy = await StartProxyAsync();
        await A.DisposeAsync();

        using var response = await Proxy.Client.PostAsync("/api/experimental/web_search", new StringContent(SearchBody));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(SearchAnswer);
    }

    [Fact]
    public async Task WebSearch_EveryServerAnswers503_TheLastAnswerReachesTheClient()
    {
        Answer(A, "POST", "/api/experimental/web_search", 503, """{"error":"a says no"}""");
        Answer(B, "POST", "/api/experimental/web_search", 503, """{"error":"ollama cloud is disabled: web search is unavailable"}""");
        Proxy = await StartProxyAsync();

        using var response = await Proxy.Client.PostAsync("/api/experimental/web_search", new StringContent(SearchBody));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"ollama cloud is disabled: web search is unavailable"}""");
    }

    [Fact]
    public async Task Me_SignedOut_TheServersUnauthorizedAndSigninUrlPassThrough()
    {
        const string signedOut = """{"error":"unauthorized","signin_url":"https://ollama.com/connect?name=a&key=abc"}""";
        Answer(A, "POST", "/api/me", 401, signedOut);
        Proxy = await StartProxyAsync();

        using var response = await Proxy.Client.PostAsync("/api/me", null);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await response.Content.ReadAsStringAsync()).Should().Be(signedOut);
        B.Requests.Should().NotContain(r => r.Path == "/api/me");
    }

    [Theory]
    [InlineData("POST", "/api/signout")]
    [InlineData("DELETE", "/api/user/keys/c3NoLWVkMjU1MTkgQUFBQQ")]
    public async Task SignOut_Refused501WithTheReasonAndNothingForwarded(string method, string path)
    {
        Proxy = await StartProxyAsync();

        using var response = await Proxy.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        response.StatusCode.Should().Be(HttpStatusCode.NotImplemented);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"error":"gollamas router doesn't support signing a server out of ollama.com: each Ollama server behind it is signed in for every client that uses it; send this request to that Ollama server directly"}""");
        A.Requests.Should().BeEmpty();
        B.Requests.Should().BeEmpty();
    }

    private Task<ProxyUnderTest> StartProxyAsync() =>
        ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=a", "qwen3:8b=b"],
            connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"]);

    private static void Answer(FakeOllamaServer fake, string method, string path, int status, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        fake.Map(method, path, (context, _) =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = FakeAnswers.JsonContentType;
            context.Response.ContentLength = bytes.Length;
            return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
        });
    }
}
