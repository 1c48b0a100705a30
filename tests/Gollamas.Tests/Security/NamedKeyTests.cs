using System.Net;
using Gollamas.Config;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Security;

/// <summary>
/// Keys have names (NAME=KEY, "NAME: KEY" in the keys file, or key1, key2... by position): the
/// access log and /metrics say which key a request came with, by name, never the key.
/// </summary>
public sealed class NamedKeyTests : TwoServersTest, IDisposable
{
    private readonly string _keysFile = Path.Combine(Path.GetTempPath(), $"gollamas-named-keys-{Guid.NewGuid():N}");

    public void Dispose() => File.Delete(_keysFile);

    [Fact]
    public async Task NamedAndBareKeys_FlagAndFile_TheAccessLogAndMetricsSayTheirNames()
    {
        await File.WriteAllTextAsync(_keysFile, "# team keys\nops: sk-file-ops\nsk-file-bare\n");
        var proxy = await StartAsync(["team-a=sk-flag-a", "sk-flag-bare"], _keysFile);

        foreach (var key in new[] { "sk-flag-a", "sk-flag-bare", "sk-file-ops", "sk-file-bare", "sk-flag-a" })
        {
            using var response = await ChatAsync(proxy, key);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await proxy.Logs.WaitForAsync(static l => l.Contains("key=key4", StringComparison.Ordinal)).DefaultTimeout();
        using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        scrape.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-flag-bare");
        using var scraped = await proxy.Client.SendAsync(scrape);
        var metrics = await scraped.Content.ReadAsStringAsync();

        var access = proxy.Logs.Lines.Where(static l => l.Contains("POST /api/chat 200", StringComparison.Ordinal)).ToArray();
        access.Select(static l => System.Text.RegularExpressions.Regex.Match(l, " (key=[^ ]+) ").Groups[1].Value).Should().Equal("key=team-a", "key=key2", "key=ops", "key=key4", "key=team-a");
        metrics.Should().Contain("gollamas_key_requests_total{key=\"team-a\"} 2\n")
            .And.Contain("gollamas_key_requests_total{key=\"key2\"} 1\n")
            .And.Contain("gollamas_key_requests_total{key=\"ops\"} 1\n")
            .And.Contain("gollamas_key_requests_total{key=\"key4\"} 1\n")
            .And.MatchRegex(@"gollamas_key_tokens_total\{key=""team-a"",kind=""prompt""\} [1-9]\d*\n")
            .And.NotContain("sk-");
        proxy.Logs.Lines.Should().NotContain(static l => l.Contains("sk-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeysFileReload_TakesTheNewNames()
    {
        await File.WriteAllTextAsync(_keysFile, "alice: sk-1\n");
        var proxy = await StartAsync([], _keysFile);
        await File.WriteAllTextAsync(_keysFile, "bob: sk-1\n");

        await DriveAsync(proxy, proxy.Server.ApiKeys.ReloadAsync());
        using (var response = await ChatAsync(proxy, "sk-1"))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await proxy.Logs.WaitForAsync(static l => l.Contains("POST /api/chat 200", StringComparison.Ordinal)).DefaultTimeout())
            .Should().Contain(" key=bob id=");
    }

    private async Task<ProxyUnderTest> StartAsync(string[] keys, string? file)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            adjust: options => options with { Security = new SecurityOptions { ApiKeys = keys, ApiKeysFile = file } });
        return Proxy;
    }

    private static async Task<HttpResponseMessage> ChatAsync(ProxyUnderTest proxy, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2","stream":false}""") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await proxy.Client.SendAsync(request);
    }

    // Reloads a keys file, moving the proxy's clock on at each settle.
    internal static async Task DriveAsync(ProxyUnderTest proxy, Task reload, Gollamas.Security.ApiKeys? keys = null)
    {
        keys ??= proxy.Server.ApiKeys;
        void Advance() => proxy.Time.Advance(TimeSpan.FromMilliseconds(100));
        keys.Settling += Advance;
        try
        {
            Advance();
            await reload.DefaultTimeout();
        }
        finally
        {
            keys.Settling -= Advance;
        }
    }
}
