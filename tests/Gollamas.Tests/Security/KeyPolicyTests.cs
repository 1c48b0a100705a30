using System.Net;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Security;

/// <summary>
/// What a named key may use: its models (others unknown to it), its requests at once and per
/// minute (429 with Retry-After, in the path's error shape). Keys without a policy as before.
/// </summary>
public sealed class KeyPolicyTests : TwoServersTest
{
    private static readonly string[] s_keys = ["team-a=sk-a", "sk-b"];

    [Fact]
    public async Task KeyModels_AnotherModelIsUnknownToTheKey_OtherKeysUnchanged()
    {
        var proxy = await StartAsync(new KeyPolicy("team-a") { Models = ["fast"] });

        using var other = await SendAsync(proxy, "/api/show", "sk-a", "phi4");
        using var own = await SendAsync(proxy, "/api/show", "sk-a", "llama3.2");
        using var unlimited = await SendAsync(proxy, "/api/show", "sk-b", "phi4");

        other.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await other.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'phi4' not found"}""");
        own.StatusCode.Should().Be(HttpStatusCode.OK, "the key's model is given by its alias");
        unlimited.StatusCode.Should().Be(HttpStatusCode.OK);
        A.Requests.Count(static r => r.Path == "/api/show" && r.BodyText.Contains("phi4", StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task KeyModels_TheListsShowTheKeysModelsOnly()
    {
        A.Models = [new FakeModel("llama3.2:latest"), new FakeModel("phi4:latest")];
        var proxy = await StartAsync(new KeyPolicy("team-a") { Models = ["llama3.2"] });

        var limited = await GetAsync(proxy, "/api/tags", "sk-a");
        var unlimited = await GetAsync(proxy, "/api/tags", "sk-b");
        var openAi = await GetAsync(proxy, "/v1/models", "sk-a");
        using var hidden = new HttpRequestMessage(HttpMethod.Get, "/v1/models/phi4");
        hidden.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-a");
        using var hiddenModel = await proxy.Client.SendAsync(hidden);

        limited.Should().Contain("llama3.2:latest").And.NotContain("phi4");
        unlimited.Should().Contain("llama3.2:latest").And.Contain("phi4:latest");
        openAi.Should().Contain("llama3.2").And.NotContain("phi4");
        hiddenModel.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task KeyModels_TheStatusShowsTheKeysModelsOnly_AnotherKeySeesThemAll()
    {
        // fast:latest: the server's own model, named like the alias of llama3.2 (not that model).
        A.Running = [new FakeModel("llama3.2:latest"), new FakeModel("phi4:latest"), new FakeModel("fast:latest")];
        var proxy = await StartAsync(new KeyPolicy("team-a") { Models = ["llama3.2"] });
        await proxy.ProbeRoundAsync();

        var limited = System.Text.Json.JsonDocument.Parse(await GetAsync(proxy, "/gollamas/status", "sk-a")).RootElement;
        var unlimited = System.Text.Json.JsonDocument.Parse(await GetAsync(proxy, "/gollamas/status", "sk-b")).RootElement;

        limited.GetProperty("models").EnumerateArray().Select(static m => m.GetProperty("name").GetString()).Should().Equal("llama3.2");
        var connection = limited.GetProperty("connections")[0];
        connection.GetProperty("models").GetRawText().Should().Be("""[{"name":"llama3.2","source":"configured"}]""");
        connection.GetProperty("loaded_models").EnumerateArray().Select(static m => m.GetProperty("name").GetString()).Should().Equal(["llama3.2:latest"], "as /api/ps shows that key: not phi4, nor the server's fast");
        unlimited.GetProperty("models").EnumerateArray().Select(static m => m.GetProperty("name").GetString()).Should().Equal("llama3.2", "phi4");
        unlimited.GetProperty("connections")[0].GetProperty("loaded_models").GetArrayLength().Should().Be(3);
    }

    [Fact]
    public async Task KeyConcurrency_OneMoreThanTheCap_429WithRetryAfterInThePathsShape()
    {
        A.MapScript("POST", "/api/chat", HeldChat(out var release));
        var proxy = await StartAsync(new KeyPolicy("team-a") { Concurrency = 1 });
        using var first = await SendAsync(proxy, "/api/chat", "sk-a", "llama3.2", HttpCompletionOption.ResponseHeadersRead);

        using var native = await SendAsync(proxy, "/api/chat", "sk-a", "llama3.2");
        using var openAi = await SendAsync(proxy, "/v1/chat/completions", "sk-a", "llama3.2");
        using var otherKey = await SendAsync(proxy, "/api/show", "sk-b", "llama3.2");
        release.Open();
        (await first.Content.ReadAsStringAsync()).Should().Contain("\"done\":true");
        await proxy.Logs.WaitForAsync(static l => l.Contains("POST /api/chat 200", StringComparison.Ordinal)).DefaultTimeout();
        using var after = await SendAsync(proxy, "/api/show", "sk-a", "llama3.2");

        native.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        native.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        (await native.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: key 'team-a' may have 1 requests in flight at once; try again when one has ended"}""");
        openAi.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        (await openAi.Content.ReadAsStringAsync()).Should().StartWith("""{"error":{"message":"gollamas: key 'team-a' may have 1 requests""");
        otherKey.StatusCode.Should().Be(HttpStatusCode.OK);
        after.StatusCode.Should().Be(HttpStatusCode.OK, "the first request's end freed its place");
        A.Requests.Count(static r => r.Path == "/api/chat" || r.Path == "/v1/chat/completions").Should().Be(1);
    }

    [Fact]
    public async Task KeyRate_OverItsRequestsPerMinute_429UntilTheBucketRefills()
    {
        var proxy = await StartAsync(new KeyPolicy("team-a") { PerMinute = 2 });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await SendAsync(proxy, "/api/show", "sk-a", "llama3.2");
            statuses.Add(response.StatusCode);
            if (i == 2)
            {
                response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(30));
                (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: key 'team-a' may send 2 requests per minute; try again later"}""");
            }
        }

        proxy.Time.Advance(TimeSpan.FromSeconds(30));
        using var refilled = await SendAsync(proxy, "/api/show", "sk-a", "llama3.2");

        statuses.Should().Equal(HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests);
        refilled.StatusCode.Should().Be(HttpStatusCode.OK);
        proxy.Logs.Lines.Should().Contain(static l => l.Contains("Refused POST /api/show of key team-a: over its limit", StringComparison.Ordinal));
    }

    private async Task<ProxyUnderTest> StartAsync(KeyPolicy policy)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}", $"phi4={A.BaseUri}"],
            aliases: ["fast=llama3.2"],
            adjust: options => options with { Security = new SecurityOptions { ApiKeys = s_keys, KeyPolicies = [policy] } });
        return Proxy;
    }

    private static async Task<string> GetAsync(ProxyUnderTest proxy, string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        using var response = await proxy.Client.SendAsync(request).DefaultTimeout();
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<HttpResponseMessage> SendAsync(ProxyUnderTest proxy, string path, string key, string model, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent($$"""{"model":"{{model}}","stream":false}""") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await proxy.Client.SendAsync(request, completion).DefaultTimeout();
    }
}
