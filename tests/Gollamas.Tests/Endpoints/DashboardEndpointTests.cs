using System.Net;
using Gollamas.Config;
using Gollamas.Endpoints;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Endpoints;

/// <summary>The dashboard page: one embedded file, small, self-contained, served without a key.</summary>
public sealed class DashboardEndpointTests : TwoServersTest
{
    [Theory]
    [InlineData("/gollamas/")]
    [InlineData("/gollamas")]
    public async Task Get_ServesThePageWithAPolicyThatKeepsItToThisOrigin(string path)
    {
        Proxy = await ProxyUnderTest.StartAsync([$"llama3.2={A.BaseUri}"]);

        using var response = await Proxy.Client.GetAsync(path).DefaultTimeout();
        var page = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/html; charset=utf-8");
        page.Should().StartWith("<!doctype html>").And.Contain("<title>Gollamas</title>");
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        policy.Should().Contain("default-src 'none'").And.Contain("connect-src 'self'").And.Contain("frame-ancestors 'none'");
        response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
    }

    [Fact]
    public void Page_IsUnder60KiBAndLoadsNothingFromElsewhere()
    {
        DashboardEndpoint.Size.Should().BeLessThan(60 * 1024);
        using var stream = typeof(DashboardEndpoint).Assembly.GetManifestResourceStream("dashboard.html")!;
        var page = new StreamReader(stream).ReadToEnd();
        page.Should().NotContainAny("http:", "https:", "//cdn", "@import", "<link", "src=\"");
        page.Should().NotContain("innerHTML", "what servers and clients named is set as text, never parsed as HTML");
    }

    [Fact]
    public async Task Head_AnswersTheHeadersWithoutTheBody()
    {
        Proxy = await ProxyUnderTest.StartAsync([$"llama3.2={A.BaseUri}"]);

        using var request = new HttpRequestMessage(HttpMethod.Head, "/gollamas/");
        using var response = await Proxy.Client.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.Should().Be(DashboardEndpoint.Size);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task WithApiKeys_ThePageNeedsNoKeyButTheApiStillDoes()
    {
        Proxy = await ProxyUnderTest.StartAsync(
            [$"llama3.2={A.BaseUri}"],
            adjust: options => options with { Security = new SecurityOptions { ApiKeys = ["sk-one"] } });

        using var page = await Proxy.Client.GetAsync("/gollamas/").DefaultTimeout();
        using var tags = await Proxy.Client.GetAsync("/api/tags").DefaultTimeout();

        page.StatusCode.Should().Be(HttpStatusCode.OK);
        tags.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ForeignHostOnLoopback_403LikeEveryOtherPath()
    {
        Proxy = await ProxyUnderTest.StartAsync([$"llama3.2={A.BaseUri}"]);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/gollamas/");
        request.Headers.Host = "attacker.example";
        using var response = await Proxy.Client.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }
}
