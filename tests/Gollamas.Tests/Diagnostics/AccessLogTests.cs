using System.Net;
using Gollamas.Config;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Diagnostics;

/// <summary>One access-log line per request, with what an operator needs and no prompt.</summary>
public sealed class AccessLogTests : TwoServersTest
{
    [Fact]
    public async Task ForwardedChat_OneLineWithModelsConnectionStatusBytesAndTimes()
    {
        var proxy = await StartAsync(accessLog: true);
        const string body = """{"model":"gpt-4o","stream":false,"messages":[{"role":"user","content":"a secret prompt"}]}""";

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent(body));
        var answer = await response.Content.ReadAsByteArrayAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var line = await WaitForAccessLineAsync(proxy, "/api/chat");
        line.Should().MatchRegex($@"^Information: POST /api/chat 200 model=gpt-4o resolved=llama3\.2 connection=127\.0\.0\.1:\d+ bytes={answer.Length} ttfb_ms=[\d.]+ duration_ms=[\d.]+ client=127\.0\.0\.1 key=- id=[0-9a-f]{{16}}-[0-9a-f]+$");
        proxy.Logs.Lines.Should().NotContain(l => l.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RefusedRequest_LoggedWithItsStatusAndNoModel()
    {
        var proxy = await StartAsync(accessLog: true);

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("{"));
        var error = await response.Content.ReadAsByteArrayAsync();

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentLength.Should().Be(error.Length, "the proxy's own answers carry their length");
        var line = await WaitForAccessLineAsync(proxy, "/api/chat");
        line.Should().StartWith($"Information: POST /api/chat 400 model=- resolved=- connection=- bytes={error.Length} ");
    }

    [Fact]
    public async Task AccessLogOff_NoLine()
    {
        var proxy = await StartAsync(accessLog: false);

        using var response = await proxy.Client.GetAsync("/");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        proxy.Logs.Lines.Should().NotContain(l => l.StartsWith("Information: GET / ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScrapesAndProbes_LeftOutByDefault_ButAFailedOneAndGetRootLogged()
    {
        var proxy = await StartAsync(accessLog: true);

        foreach (var (method, path) in s_probes)
        {
            using var probe = await proxy.Client.SendAsync(new HttpRequestMessage(method, path));
            probe.IsSuccessStatusCode.Should().BeTrue(path);
        }

        using var notReady = await proxy.Client.GetAsync("/readyz");
        using var root = await proxy.Client.GetAsync("/");

        notReady.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "no server has answered yet");
        await proxy.Logs.WaitForAsync(l => l.StartsWith("Information: GET /readyz 503 ", StringComparison.Ordinal)).DefaultTimeout();
        await proxy.Logs.WaitForAsync(l => l.StartsWith("Information: GET / 200 ", StringComparison.Ordinal)).DefaultTimeout();
        proxy.Logs.Lines.Where(static l => l.StartsWith("Information: ", StringComparison.Ordinal) && l.Contains(" id=", StringComparison.Ordinal))
            .Select(static l => string.Join(' ', l.Split(' ').Skip(1).Take(3)))
            .Should().Equal("GET /readyz 503", "GET / 200");
    }

    [Fact]
    public async Task ScrapesAndProbes_WithTheSetting_Logged()
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            input: given => given.With(Settings.AccessLogProbes, new ConfigEntry("true", "--access-log-probes")));

        foreach (var (method, path) in s_probes)
        {
            using var probe = await Proxy.Client.SendAsync(new HttpRequestMessage(method, path));
            await Proxy.Logs.WaitForAsync(l => l.StartsWith($"Information: {method} {path} 200 ", StringComparison.Ordinal)).DefaultTimeout();
        }
    }

    private static readonly (HttpMethod Method, string Path)[] s_probes =
    [
        (HttpMethod.Get, "/healthz"), (HttpMethod.Head, "/healthz"), (HttpMethod.Get, "/metrics"), (HttpMethod.Head, "/"),
    ];

    private async Task<ProxyUnderTest> StartAsync(bool accessLog)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            aliases: ["gpt-4o=llama3.2"],
            adjust: options => options with { Logging = new LogOptions { AccessLog = accessLog } });
        return Proxy;
    }

    // The line is written when the request ends on the server, which can be just after the
    // client has the whole answer: wait for it on the capture's signal.
    private static Task<string> WaitForAccessLineAsync(ProxyUnderTest proxy, string path) =>
        proxy.Logs.WaitForAsync(l => l.StartsWith("Information: POST " + path + " ", StringComparison.Ordinal)).DefaultTimeout();
}
