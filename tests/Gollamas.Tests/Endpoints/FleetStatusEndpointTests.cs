using System.Net;
using System.Text.Json;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Endpoints;

/// <summary>GET /gollamas/status: what the proxy sees of each connection and model, and who may read it.</summary>
public sealed class FleetStatusEndpointTests : TwoServersTest
{
    [Fact]
    public async Task TwoServersOneDown_EachConnectionAndModelAsTheProxySeesIt()
    {
        A.Running = [new FakeModel("llama3.2:latest")];
        B.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        var proxy = await StartAsync(apiKeys: [], adminKeys: []);
        for (var i = 0; i < 3; i++)
        {
            await proxy.ProbeRoundAsync();
        }

        using (var chat = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}""")))
        {
            chat.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await proxy.Logs.WaitForAsync(static l => l.Contains("POST /api/chat 200", StringComparison.Ordinal)).DefaultTimeout();
        using var response = await proxy.Client.GetAsync("/gollamas/status");
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = status.RootElement;

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        root.GetProperty("version").GetString().Should().StartWith("gollamas ");
        root.GetProperty("uptime_seconds").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        root.GetProperty("window_seconds").GetInt32().Should().Be(60);

        var connections = root.GetProperty("connections").EnumerateArray().ToArray();
        connections.Select(static c => c.GetProperty("id").GetString()).Should().Equal("a", "b");
        var a = connections[0];
        a.GetProperty("url").GetString().Should().Be(A.BaseUri.ToString());
        a.GetProperty("state").GetString().Should().Be("up");
        a.GetProperty("last_probe_at").GetString().Should().NotBeNullOrEmpty();
        a.GetProperty("last_probe_answered").GetBoolean().Should().BeTrue();
        a.GetProperty("last_error").ValueKind.Should().Be(JsonValueKind.Null);
        a.GetProperty("ollama_version").GetString().Should().Be("0.9.6");
        a.GetProperty("in_flight").GetInt32().Should().Be(0);
        a.GetProperty("queued").GetInt32().Should().Be(0);
        a.GetProperty("limit").GetInt32().Should().Be(0);
        a.GetProperty("loaded_models").GetRawText().Should().Be($$"""[{"name":"llama3.2:latest","size":2019393189,"expires_at":"{{FakeModel.DefaultExpiresAt}}"}]""");
        a.GetProperty("models").GetRawText().Should().Be("""[{"name":"llama3.2","source":"configured"}]""");
        a.GetProperty("rates").GetProperty("requests").GetInt64().Should().Be(1);
        a.GetProperty("rates").GetProperty("errors").GetInt64().Should().Be(0);
        a.GetProperty("rates").GetProperty("ttfb_ms_mean").GetDouble().Should().BeGreaterThan(0);

        var b = connections[1];
        b.GetProperty("state").GetString().Should().Be("down");
        b.GetProperty("last_probe_answered").GetBoolean().Should().BeFalse();
        b.GetProperty("last_error").GetString().Should().Be("/api/version answered 500");
        b.GetProperty("ollama_version").ValueKind.Should().Be(JsonValueKind.Null);
        b.GetProperty("models").GetRawText().Should().Be("""[{"name":"llama3.2","source":"configured"},{"name":"phi4","source":"configured"}]""");
        b.GetProperty("rates").GetProperty("requests").GetInt64().Should().Be(0);
        b.GetProperty("rates").GetProperty("ttfb_ms_mean").ValueKind.Should().Be(JsonValueKind.Null);

        var models = root.GetProperty("models").EnumerateArray().ToArray();
        models.Select(static m => m.GetProperty("name").GetString()).Should().Equal("llama3.2", "phi4");
        models[0].GetProperty("routes").GetRawText().Should().Be(
            """[{"connection":"a","state":"up","loaded":true,"in_flight":0},{"connection":"b","state":"down","loaded":false,"in_flight":0}]""");
        models[0].GetProperty("aliases").GetRawText().Should().Be("""["fast"]""");
        models[0].GetProperty("rates").GetProperty("requests").GetInt64().Should().Be(1);
        models[1].GetProperty("rates").GetProperty("requests").GetInt64().Should().Be(0);
    }

    [Fact]
    public async Task WithKeys_AnApiKeyReadsItWithoutUrls_AnAdminKeyWithThem_NoKeyNot()
    {
        var proxy = await StartAsync(apiKeys: ["sk-client"], adminKeys: ["sk-admin"]);

        using var withoutKey = await AdminActionTests.GetAsync(proxy.Client, "/gollamas/status", key: null);
        using var client = await AdminActionTests.GetAsync(proxy.Client, "/gollamas/status", "sk-client");
        using var admin = await AdminActionTests.GetAsync(proxy.Client, "/gollamas/status", "sk-admin");

        withoutKey.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        client.StatusCode.Should().Be(HttpStatusCode.OK);
        admin.StatusCode.Should().Be(HttpStatusCode.OK);
        using var clientView = JsonDocument.Parse(await client.Content.ReadAsStringAsync());
        using var adminView = JsonDocument.Parse(await admin.Content.ReadAsStringAsync());
        clientView.RootElement.GetProperty("connections")[0].GetProperty("url").ValueKind.Should().Be(JsonValueKind.Null);
        adminView.RootElement.GetProperty("connections")[0].GetProperty("url").GetString().Should().Be(A.BaseUri.ToString());
        (await client.Content.ReadAsStringAsync()).Should().NotContain(A.BaseUri.Authority);
    }

    [Fact]
    public async Task OnlyAdminKeys_TheStatusNeedsOne_TheApiStaysOpen()
    {
        var proxy = await StartAsync(apiKeys: [], adminKeys: ["sk-admin"]);

        using var status = await AdminActionTests.GetAsync(proxy.Client, "/gollamas/status", key: null);
        using var tags = await AdminActionTests.GetAsync(proxy.Client, "/api/tags", key: null);

        status.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        tags.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RequestWaitingInLine_ListedWithItsModelAndKeyName_TheKeyOnlyForAnAdmin_TheModelNotForAKeyLimitedToOthers()
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}", $"phi4={A.BaseUri}"],
            adjust: options => options with
            {
                Security = new SecurityOptions
                {
                    ApiKeys = ["team-a=sk-a", "team-b=sk-b"],
                    AdminKeys = ["ops=sk-admin"],
                    KeyPolicies = [new KeyPolicy("team-b") { Models = ["phi4"] }],
                },
                Concurrency = new ConcurrencyOptions { DefaultLimit = 1, QueueLength = 4, QueueTimeout = TimeSpan.FromSeconds(60) },
            });
        var gate = Proxy.Server.Snapshots.Current.Routes.Models[0].Connections[0].Gate;
        var held = HeldChat(out var release);
        A.MapScript("POST", "/api/chat", held);
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.QueueChanged += changed =>
        {
            if (changed.Waiting == 1)
            {
                queued.TrySetResult();
            }
        };
        using var first = await SendAsync("/api/chat", "sk-a", HttpCompletionOption.ResponseHeadersRead);
        await held.Started.DefaultTimeout();
        var second = SendAsync("/api/chat", "sk-a", HttpCompletionOption.ResponseContentRead);
        await queued.Task.DefaultTimeout();

        using var asAdmin = await SendAsync("/gollamas/status", "sk-admin", HttpCompletionOption.ResponseContentRead, get: true);
        using var asClient = await SendAsync("/gollamas/status", "sk-a", HttpCompletionOption.ResponseContentRead, get: true);
        var adminQueue = QueueOf(await asAdmin.Content.ReadAsStringAsync());
        var clientQueue = QueueOf(await asClient.Content.ReadAsStringAsync());
        using var asLimited = await SendAsync("/gollamas/status", "sk-b", HttpCompletionOption.ResponseContentRead, get: true);
        var limitedQueue = QueueOf(await asLimited.Content.ReadAsStringAsync());
        release.Open();
        (await second.DefaultTimeout()).Dispose(); // through the gate: what the fake answered it does not matter here

        adminQueue.GetArrayLength().Should().Be(1);
        adminQueue[0].GetProperty("position").GetInt32().Should().Be(1);
        adminQueue[0].GetProperty("model").GetString().Should().Be("llama3.2");
        adminQueue[0].GetProperty("key").GetString().Should().Be("team-a");
        adminQueue[0].GetProperty("waited_seconds").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        clientQueue[0].GetProperty("key").ValueKind.Should().Be(JsonValueKind.Null, "a client does not see other keys' names");
        clientQueue[0].GetProperty("model").GetString().Should().Be("llama3.2", "a key without a model limit sees every model");
        limitedQueue.GetArrayLength().Should().Be(1, "the line's length is no model's name");
        limitedQueue[0].GetProperty("model").ValueKind.Should().Be(JsonValueKind.Null, "a key limited to phi4 does not learn of llama3.2");
        gate.Queued().Should().BeEmpty("the request left the line when it got its slot");
    }

    private async Task<HttpResponseMessage> SendAsync(string path, string key, HttpCompletionOption completion, bool get = false)
    {
        using var request = new HttpRequestMessage(get ? HttpMethod.Get : HttpMethod.Post, path);
        if (!get)
        {
            request.Content = new StringContent("""{"model":"llama3.2"}""");
        }

        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await Proxy!.Client.SendAsync(request, completion).DefaultTimeout();
    }

    private static JsonElement QueueOf(string status) =>
        JsonDocument.Parse(status).RootElement.GetProperty("connections")[0].GetProperty("queue").Clone();

    private async Task<ProxyUnderTest> StartAsync(string[] apiKeys, string[] adminKeys)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=a", "llama3.2=b", "phi4=b"],
            connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"],
            aliases: ["fast=llama3.2"],
            adjust: options => options with { Security = new SecurityOptions { ApiKeys = apiKeys, AdminKeys = adminKeys } });
        return Proxy;
    }
}
