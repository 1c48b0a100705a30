using System.Net;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using OpenQA.Selenium;

namespace Gollamas.Tests.Browser;

/// <summary>
/// The dashboard in a real browser (headless Chromium): it asks for a key, shows two fake
/// servers, shows one going down within a few seconds, and drains the other from its button.
/// </summary>
public sealed class DashboardBrowserTests : TwoServersTest
{
    private const string AdminKey = "sk-admin";

    // The page reads the status every 2 s: a change shows within two reads and the page's work.
    private static readonly TimeSpan s_seen = TimeSpan.FromSeconds(15);

    [BrowserFact]
    public async Task Dashboard_ShowsBothServers_OneGoingDown_AndDrainsTheOtherFromThePage()
    {
        A.Running = [new FakeModel("llama3.2:latest")];
        Proxy = await ProxyUnderTest.StartAsync(
            ["llama3.2=a", "llama3.2=b"],
            connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"],
            adjust: options => options with { Security = new SecurityOptions { AdminKeys = ["ops=" + AdminKey] } });
        await Proxy.ProbeRoundAsync();
        using var browser = new HeadlessChromium(width: 420, height: 900); // a phone's width

        browser.Open(new Uri(Proxy.BaseUri, "/gollamas/"));
        browser.WaitFor(d => d.FindElement(By.Id("notice")).Text.Contains("needs a key", StringComparison.Ordinal), s_seen);
        browser.Driver.FindElement(By.Id("key")).SendKeys(AdminKey);
        browser.Driver.FindElement(By.Id("usekey")).Click();

        browser.WaitFor(d => StateOf(d, "a") == "up" && StateOf(d, "b") == "up", s_seen);
        browser.WaitFor(d => d.FindElement(By.CssSelector("[data-model='llama3.2'] [data-route='a']")).Text.Contains("loaded", StringComparison.Ordinal), s_seen);
        browser.Driver.FindElement(By.CssSelector("[data-connection='a']")).Text.Should().Contain("llama3.2:latest", "a's loaded model is on its card");

        B.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        for (var round = 0; round < 3; round++)
        {
            await Proxy.ProbeRoundAsync();
        }

        browser.WaitFor(d => StateOf(d, "b") == "down", s_seen);
        browser.Driver.FindElement(By.CssSelector("[data-connection='b'] .err")).Text.Should().Contain("500");

        browser.WaitFor(d =>
        {
            d.FindElement(By.CssSelector("[data-connection='a'] button[data-action='drain']")).Click();
            return true;
        }, s_seen);
        browser.WaitFor(d => StateOf(d, "a") == "draining", s_seen);

        Proxy.Server.Connections.Active.Single(static c => c.Id == "a").Health.IsDraining.Should().BeTrue();
        browser.Driver.FindElement(By.Id("events")).Text.Should().Contain("drain a: draining");
        using var chat = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));
        chat.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "a is drained and b is down");
    }

    private static string? StateOf(IWebDriver driver, string connection) =>
        driver.FindElement(By.CssSelector($"[data-connection='{connection}']")).GetAttribute("data-state");
}
