using System.Net;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Diagnostics;

/// <summary>
/// Every request has an id: the client's X-Request-Id when sane, else a new one; Ollama gets it,
/// the access log writes it, the answer carries it, errors included.
/// </summary>
public sealed class RequestIdTests : TwoServersTest
{
    private const string Generated = "^[0-9a-f]{16}-[0-9a-f]+$";

    [Fact]
    public async Task ClientsSaneId_PassedToOllama_ReturnedAndLogged()
    {
        await StartAsync();
        const string id = "req-42.abc_DEF:1/2+~";

        using var response = await SendChatAsync(id);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("X-Request-Id").Should().Equal(id);
        A.Requests.Single(r => r.Path == "/api/chat").Headers["X-Request-Id"].Should().Be(id);
        (await AccessLineAsync("POST /api/chat 200")).Should().EndWith(" id=" + id);
    }

    [Fact]
    public async Task NoId_ANewOne_TheSameForOllamaTheLogAndTheClient_AndEachRequestItsOwn()
    {
        await StartAsync();

        using var first = await SendChatAsync(id: null);
        using var second = await SendChatAsync(id: null);

        var id = first.Headers.GetValues("X-Request-Id").Single();
        id.Should().MatchRegex(Generated);
        second.Headers.GetValues("X-Request-Id").Single().Should().NotBe(id);
        A.Requests.First(r => r.Path == "/api/chat").Headers["X-Request-Id"].Should().Be(id);
        (await AccessLineAsync("POST /api/chat 200")).Should().EndWith(" id=" + id);
    }

    [Theory]
    [InlineData("two words")]
    [InlineData("a\"quote")]
    [InlineData("it's")]
    [InlineData("back\\slash")]
    [InlineData("129")]
    public async Task ClientsIdNotSane_ReplacedByANewOne_EverywhereOllamaIncluded(string given)
    {
        await StartAsync();
        var id = given == "129" ? new string('x', RequestId.MaxLength + 1) : given;

        using var response = await SendChatAsync(id);

        var ours = response.Headers.GetValues("X-Request-Id").Single();
        ours.Should().MatchRegex(Generated);
        A.Requests.Single(r => r.Path == "/api/chat").Headers["X-Request-Id"].Should().Be(ours);
    }

    [Fact]
    public async Task TwoIdFields_ReplacedByANewOne_OllamaGetsOneField()
    {
        await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2","stream":false}""") };
        request.Headers.TryAddWithoutValidation("X-Request-Id", "first");
        request.Headers.TryAddWithoutValidation("x-request-id", "second");

        using var response = await Proxy!.Client.SendAsync(request);

        var ours = response.Headers.GetValues("X-Request-Id").Single();
        ours.Should().MatchRegex(Generated);
        A.Requests.Single(r => r.Path == "/api/chat").Headers["X-Request-Id"].Should().Be(ours);
    }

    [Fact]
    public async Task IdInAnyCase_KeptAndSentOnceAsTheProxysField()
    {
        await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2","stream":false}""") };
        request.Headers.TryAddWithoutValidation("X-REQUEST-ID", "upper-42");

        using var response = await Proxy!.Client.SendAsync(request);

        response.Headers.GetValues("X-Request-Id").Should().Equal("upper-42");
        A.Requests.Single(r => r.Path == "/api/chat").Headers["X-Request-Id"].Should().Be("upper-42");
    }

    [Fact]
    public async Task Errors_CarryTheIdToo()
    {
        await StartAsync(apiKey: "sk-one");

        using var unauthorized = await Proxy!.Client.GetAsync("/api/tags");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/no/such/path");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-one");
        request.Headers.TryAddWithoutValidation("X-Request-Id", "mine-1");
        using var unknown = await Proxy.Client.SendAsync(request);

        unauthorized.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        unauthorized.Headers.GetValues("X-Request-Id").Single().Should().MatchRegex(Generated);
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        unknown.Headers.GetValues("X-Request-Id").Should().Equal("mine-1");
    }

    [Fact]
    public async Task ServerEchoingAnId_TheClientGetsOnlyTheProxys()
    {
        A.Map("POST", "/api/chat", (context, _) =>
        {
            context.Response.Headers["X-Request-Id"] = "from-the-server";
            context.Response.Headers["X-Gollamas-Queue-Wait"] = "9s";
            return context.Response.WriteAsync("""{"done":true}""");
        });
        await StartAsync();

        using var response = await SendChatAsync("mine-2");

        response.Headers.GetValues("X-Request-Id").Should().Equal("mine-2");
        response.Headers.Contains("X-Gollamas-Queue-Wait").Should().BeFalse("the request did not wait at this proxy");
    }

    [Fact]
    public async Task ListsVersionAndStatus_EachServerAskedWithTheRequestsId()
    {
        foreach (var server in new[] { A, B })
        {
            server.Map("GET", "/api/status", static (context, _) =>
            {
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync("""{"cloud":{"disabled":false,"source":"none"}}""");
            });
        }

        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}", $"qwen3:8b={B.BaseUri}"]);

        foreach (var (path, id) in new[] { ("/api/tags", "tags-1"), ("/api/version", "version-1"), ("/api/status", "status-1") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("X-Request-Id", id);
            using var response = await Proxy.Client.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        foreach (var server in new[] { A, B })
        {
            server.Requests.Single(r => r.Path == "/api/tags").Headers["X-Request-Id"].Should().Be("tags-1");
            server.Requests.Single(r => r.Path == "/api/version").Headers["X-Request-Id"].Should().Be("version-1");
            server.Requests.Single(r => r.Path == "/api/status").Headers["X-Request-Id"].Should().Be("status-1");
        }
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("!~", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("tab\there", false)]
    [InlineData("caf\u00e9", false)]
    public void IsSane_VisibleAsciiWithoutSpacesQuotesOrBackslash(string? id, bool sane) =>
        RequestId.IsSane(id).Should().Be(sane);

    [Fact]
    public void IsSane_UpTo128Characters() =>
        (RequestId.IsSane(new string('a', 128)), RequestId.IsSane(new string('a', 129))).Should().Be((true, false));

    private async Task StartAsync(string? apiKey = null) =>
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            adjust: options => options with
            {
                Logging = new LogOptions { AccessLog = true },
                Security = apiKey is null ? options.Security : new SecurityOptions { ApiKeys = [apiKey] },
            });

    private async Task<HttpResponseMessage> SendChatAsync(string? id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2","stream":false}""") };
        if (id is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", id);
        }

        var response = await Proxy!.Client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return response;
    }

    private Task<string> AccessLineAsync(string start) =>
        Proxy!.Logs.WaitForAsync(l => l.StartsWith("Information: " + start, StringComparison.Ordinal)).DefaultTimeout();
}
