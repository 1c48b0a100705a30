using System.Net;
using System.Text.Json;
using Gollamas.Config;
using Gollamas.Hosting;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Endpoints;

/// <summary>
/// The admin actions under /gollamas/: off without an admin key, refused to a client key,
/// drain, resume, probe and reload, on the proxy's address or their own.
/// </summary>
public sealed class AdminActionTests : TwoServersTest, IDisposable
{
    private const string AdminKey = "sk-admin";
    private const string ClientKey = "sk-client";
    private const string Chat = """{"model":"llama3.2"}""";

    private readonly string _directory = Directory.CreateTempSubdirectory("gollamas-admin-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task AdminAction_WithoutAnyAdminKey_IsAnUnknownPath()
    {
        var proxy = await StartAsync(adminKeys: []);

        using var response = await PostAsync(proxy.Client, "/gollamas/connections/a/drain", key: null);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: no endpoint POST /gollamas/connections/a/drain"}""");
        proxy.Server.Connections.Active.Should().OnlyContain(static c => !c.Health.IsDraining);
    }

    // 401 without a valid key (any key might do); 403 for a valid API key: it is known, and no
    // retry with it can succeed, so the client is told it needs another kind of key.
    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized, """{"error":"unauthorized: send a valid admin key as 'Authorization: Bearer KEY'"}""")]
    [InlineData("sk-wrong", HttpStatusCode.Unauthorized, """{"error":"unauthorized: send a valid admin key as 'Authorization: Bearer KEY'"}""")]
    [InlineData(ClientKey, HttpStatusCode.Forbidden, """{"error":"forbidden: an API key cannot do admin actions; send an admin key"}""")]
    public async Task AdminAction_WithoutAnAdminKey_IsRefusedAndDoesNothing(string? key, HttpStatusCode status, string body)
    {
        var proxy = await StartAsync(apiKeys: [ClientKey]);

        using var response = await PostAsync(proxy.Client, "/gollamas/connections/a/drain", key);

        response.StatusCode.Should().Be(status);
        (await response.Content.ReadAsStringAsync()).Should().Be(body);
        proxy.Server.Connections.Active.Should().OnlyContain(static c => !c.Health.IsDraining);
    }

    [Fact]
    public async Task AdminKey_IsNotAnApiKey()
    {
        var proxy = await StartAsync(apiKeys: [ClientKey]);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + AdminKey);
        using var response = await proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Drain_NewRequestsGetTheAllDownAnswer_WhileTheStreamInFlightFinishes_ThenResume()
    {
        A.MapScript("POST", "/api/chat", HeldChat(out var release));
        var proxy = await StartAsync();
        using var stream = await OpenChatAsync(proxy);
        var body = await stream.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(body);
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"content\":\"a\"");

        using var drained = await PostAsync(proxy.Client, "/gollamas/connections/a/drain", AdminKey);
        using var refused = await proxy.Client.PostAsync("/api/chat", new StringContent(Chat));
        release.Open();
        var rest = await reader.ReadToEndAsync().DefaultTimeout();

        drained.StatusCode.Should().Be(HttpStatusCode.OK);
        (await drained.Content.ReadAsStringAsync()).Should().Be("""{"connection":"a","state":"draining","draining":true,"in_flight":1}""");
        refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await refused.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: every Ollama server for model 'llama3.2' is down or drained: connection 'a' (drained)"}""");
        rest.Should().Contain("\"done\":true");
        A.Requests.Count(static r => r.Path == "/api/chat").Should().Be(1);
        proxy.Logs.Lines.Should().Contain("Information: Admin key ops: drain connection a: it takes no new requests; 1 in flight finish");
        (await proxy.Client.GetStringAsync("/metrics")).Should().Contain("gollamas_connection_draining{connection=\"a\"} 1\n").And.Contain("gollamas_connection_draining{connection=\"b\"} 0\n");

        // The stream's request is over once its access-log line is written.
        await proxy.Logs.WaitForAsync(static l => l.Contains("POST /api/chat 200", StringComparison.Ordinal)).DefaultTimeout();
        A.MapScript("POST", "/api/chat", SingleLine());
        using var resumed = await PostAsync(proxy.Client, "/gollamas/connections/a/resume", AdminKey);
        using var served = await proxy.Client.PostAsync("/api/chat", new StringContent(Chat));

        (await resumed.Content.ReadAsStringAsync()).Should().Be("""{"connection":"a","state":"up","draining":false,"in_flight":0}""");
        served.StatusCode.Should().Be(HttpStatusCode.OK);
        proxy.Logs.Lines.Should().Contain("Information: Admin key ops: resume connection a: it takes requests again (up)");
        (await proxy.Client.GetStringAsync("/metrics")).Should().Contain("gollamas_connection_draining{connection=\"a\"} 0\n");
    }

    [Fact]
    public async Task Drain_OneOfTwoRoutes_TheModelsRequestsGoToTheOther_AndTheDrainOutlivesAReload()
    {
        var proxy = await StartAsync(proxies: ["llama3.2=a", "llama3.2=b"]);

        (await PostAsync(proxy.Client, "/gollamas/connections/a/drain", AdminKey)).Dispose();
        proxy.Swap(["llama3.2=a", "llama3.2=b", "phi4=b"], connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"]);
        for (var i = 0; i < 3; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/show", new StringContent(Chat));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        A.Requests.Should().NotContain(static r => r.Path == "/api/show");
        B.Requests.Count(static r => r.Path == "/api/show").Should().Be(3);
    }

    [Fact]
    public async Task Drain_AOneServerRequestGoesToAServerNotDrained_AndWithAllDrainedTheAnswerSaysSo()
    {
        B.Map("POST", "/api/me", static async (context, _) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"name":"b"}""");
        });
        var proxy = await StartAsync(proxies: ["llama3.2=a", "llama3.2=b"]);

        (await PostAsync(proxy.Client, "/gollamas/connections/a/drain", AdminKey)).Dispose();
        using var served = await proxy.Client.PostAsync("/api/me", null);
        (await PostAsync(proxy.Client, "/gollamas/connections/b/drain", AdminKey)).Dispose();
        using var refused = await proxy.Client.PostAsync("/api/me", null);

        (await served.Content.ReadAsStringAsync()).Should().Be("""{"name":"b"}""");
        A.Requests.Should().NotContain(static r => r.Path == "/api/me");
        refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await refused.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: every Ollama server is down or drained"}""");
    }

    [Fact]
    public async Task Probe_AnswersWhatTheServerSaid()
    {
        B.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        var proxy = await StartAsync(proxies: ["llama3.2=a", "llama3.2=b"]);

        using var up = await PostAsync(proxy.Client, "/gollamas/connections/a/probe", AdminKey);
        using var failing = await PostAsync(proxy.Client, "/gollamas/connections/b/probe", AdminKey);

        up.StatusCode.Should().Be(HttpStatusCode.OK);
        (await up.Content.ReadAsStringAsync()).Should().Be("""{"connection":"a","state":"up","draining":false,"in_flight":0,"answered":true,"error":null,"ollama_version":"0.9.6"}""");
        (await failing.Content.ReadAsStringAsync()).Should().Be("""{"connection":"b","state":"unknown","draining":false,"in_flight":0,"answered":false,"error":"/api/version answered 500","ollama_version":null}""");
        proxy.Logs.Lines.Should().Contain("Information: Admin key ops: probe connection a: it answered")
            .And.Contain("Information: Admin key ops: probe connection b: /api/version answered 500");
    }

    [Theory]
    [InlineData("/gollamas/connections/nope/drain")]
    [InlineData("/gollamas/connections/nope/probe")]
    public async Task UnknownConnection_404NamingIt(string path)
    {
        var proxy = await StartAsync();

        using var response = await PostAsync(proxy.Client, path, AdminKey);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: no connection 'nope'"}""");
    }

    [Fact]
    public async Task AdminKey_InTheAnthropicHeader_IsTakenToo()
    {
        var proxy = await StartAsync(apiKeys: [ClientKey]);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/gollamas/connections/a/drain");
        request.Headers.TryAddWithoutValidation("x-api-key", AdminKey);
        using var response = await proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        proxy.Server.Connections.Active.Single(static c => c.Id == "a").Health.IsDraining.Should().BeTrue();
    }

    [Fact]
    public async Task AdminAction_GetIs405()
    {
        var proxy = await StartAsync();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/gollamas/connections/a/drain");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + AdminKey);
        using var response = await proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Equal("POST");
    }

    [Fact]
    public async Task AdminListen_ServesTheActionsAndTheStatus_TheProxysAddressNotTheActions()
    {
        var proxy = await StartAsync(apiKeys: [ClientKey], adminListen: true);
        proxy.Server.Addresses.Should().HaveCount(2);
        using var admin = new HttpClient { BaseAddress = proxy.Server.Addresses[1], Timeout = TestTimeouts.Default };

        using var onMain = await PostAsync(proxy.Client, "/gollamas/connections/a/drain", ClientKey);
        onMain.StatusCode.Should().Be(HttpStatusCode.NotFound, "the admin actions are not on the proxy's address");
        proxy.Server.Connections.Active.Should().OnlyContain(static c => !c.Health.IsDraining);

        using var onAdmin = await PostAsync(admin, "/gollamas/connections/a/drain", AdminKey);
        using var statusOnAdmin = await GetAsync(admin, "/gollamas/status", AdminKey);
        using var statusOnMain = await GetAsync(proxy.Client, "/gollamas/status", ClientKey);
        using var apiOnAdmin = await GetAsync(admin, "/api/tags", ClientKey);

        onAdmin.StatusCode.Should().Be(HttpStatusCode.OK);
        statusOnAdmin.StatusCode.Should().Be(HttpStatusCode.OK);
        statusOnMain.StatusCode.Should().Be(HttpStatusCode.OK);
        apiOnAdmin.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await apiOnAdmin.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: this address serves only the status and the admin actions under /gollamas/"}""");
        A.Requests.Should().NotContain(static r => r.Path == "/api/tags");
    }

    [Fact]
    public async Task Reload_ThroughTheApi_AnswersWhatChanged()
    {
        var proxy = await StartAsync();
        var file = Path.Combine(_directory, "gollamas.yaml");
        await File.WriteAllTextAsync(file, "# test\n");
        var next = Reading(["llama3.2=a", "phi4=b"]);
        using var watch = proxy.Server.WatchConfiguration(new ConfigSource(file, () => next, Reading(["llama3.2=a"])), file);

        using var response = await PostAsync(proxy.Client, "/gollamas/reload", AdminKey);
        using var chat = await proxy.Client.PostAsync("/api/show", new StringContent("""{"model":"phi4"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"reloaded":true,"keys_files_read":false,"changes":"models added: phi4","models":2,"connections":2,"problems":[],"needs_restart":[]}""");
        chat.StatusCode.Should().Be(HttpStatusCode.OK);
        B.Requests.Should().Contain(static r => r.Path == "/api/show");
        proxy.Logs.Lines.Should().Contain("Information: Admin key ops: reload the configuration: models added: phi4");
    }

    [Fact]
    public async Task Reload_AnInvalidConfiguration_422WithItsProblems_NothingChanged()
    {
        var proxy = await StartAsync();
        var file = Path.Combine(_directory, "gollamas.yaml");
        await File.WriteAllTextAsync(file, "# test\n");
        var next = Reading(["llama3.2=nowhere"]);
        using var watch = proxy.Server.WatchConfiguration(new ConfigSource(file, () => next, Reading(["llama3.2=a"])), file);

        using var response = await PostAsync(proxy.Client, "/gollamas/reload", AdminKey);

        response.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        answer.RootElement.GetProperty("reloaded").GetBoolean().Should().BeFalse();
        answer.RootElement.GetProperty("problems").GetArrayLength().Should().BeGreaterThan(0);
        proxy.Server.Snapshots.Current.Routes.Models.Select(static m => m.Name).Should().Equal("llama3.2");
    }

    [Fact]
    public async Task Reload_WithoutAConfigurationFile_Is409()
    {
        var proxy = await StartAsync();

        using var response = await PostAsync(proxy.Client, "/gollamas/reload", AdminKey);

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: there is no configuration file to reload; start gollamas with --config FILE"}""");
    }

    [Fact]
    public async Task Reload_WithAKeysFileAndNoConfigurationFile_ReadsTheKeysAgainAsSighupDoes()
    {
        var (keys, proxy) = await StartWithAKeysFileAsync();
        await File.WriteAllTextAsync(keys, "team-a: sk-new\n");
        void Advance() => proxy.Time.Advance(TimeSpan.FromMilliseconds(100));
        proxy.Server.ApiKeys.Settling += Advance;

        using var response = await PostAsync(proxy.Client, "/gollamas/reload", AdminKey);
        proxy.Server.ApiKeys.Settling -= Advance;
        using var withOld = await TagsAsync(proxy.Client, "sk-old");
        using var withNew = await TagsAsync(proxy.Client, "sk-new");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"reloaded":true,"keys_files_read":true,"changes":null,"problems":[],"needs_restart":[]}""");
        withOld.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the file no longer holds it");
        withNew.StatusCode.Should().Be(HttpStatusCode.OK);
        proxy.Logs.Lines.Should().Contain("Information: Admin key ops: reload the configuration: the keys files read again; no configuration file");
    }

    [Fact]
    public async Task Reload_WithAKeysFileGone_Says422AndWhy_AndTheKeysInForceStay()
    {
        var (keys, proxy) = await StartWithAKeysFileAsync();
        File.Delete(keys);

        using var response = await PostAsync(proxy.Client, "/gollamas/reload", AdminKey);
        using var withOld = await TagsAsync(proxy.Client, "sk-old");

        response.StatusCode.Should().Be((HttpStatusCode)422);
        (await response.Content.ReadAsStringAsync()).Should().Be($$"""{"reloaded":false,"keys_files_read":false,"changes":null,"problems":["API keys file {{keys}} could not be read, the keys in force stay: file not found"],"needs_restart":[]}""");
        withOld.StatusCode.Should().Be(HttpStatusCode.OK, "the keys in force stay");
        proxy.Logs.Lines.Should().Contain($"Warning: API keys file {keys} could not be read, the keys in force stay: file not found");
    }

    [Fact]
    public async Task Reload_TheConfigurationTakenButAKeysFileGone_Says422_TheLogLineSaysBoth()
    {
        var (keys, proxy) = await StartWithAKeysFileAsync();
        var file = Path.Combine(_directory, "gollamas.yaml");
        await File.WriteAllTextAsync(file, "# test\n");
        var next = Reading(["llama3.2=a", "phi4=b"]);
        using var watch = proxy.Server.WatchConfiguration(new ConfigSource(file, () => next, Reading(["llama3.2=a"])), file);
        File.Delete(keys);

        using var response = await PostAsync(proxy.Client, "/gollamas/reload", AdminKey);

        response.StatusCode.Should().Be((HttpStatusCode)422, "a keys file was refused");
        using var answer = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        answer.RootElement.GetProperty("reloaded").GetBoolean().Should().BeTrue("the configuration was taken");
        answer.RootElement.GetProperty("keys_files_read").GetBoolean().Should().BeFalse();
        answer.RootElement.GetProperty("problems").EnumerateArray().Select(static p => p.GetString())
            .Should().Contain($"API keys file {keys} could not be read, the keys in force stay: file not found");
        proxy.Logs.Lines.Should().Contain(static l => l.StartsWith("Information: Admin key ops: reload the configuration: ", StringComparison.Ordinal)
            && l.Contains("phi4", StringComparison.Ordinal) && l.EndsWith("; a keys file refused", StringComparison.Ordinal));
    }

    // The proxy with an API keys file holding team-a's key sk-old, and no configuration file.
    private async Task<(string Keys, ProxyUnderTest Proxy)> StartWithAKeysFileAsync()
    {
        var keys = Path.Combine(_directory, "keys");
        await File.WriteAllTextAsync(keys, "team-a: sk-old\n");
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=a"],
            connections: [$"a={A.BaseUri}"],
            adjust: options => options with
            {
                Security = new SecurityOptions { ApiKeysFile = keys, AdminKeys = ["ops=" + AdminKey] },
            });
        return (keys, Proxy);
    }

    private static async Task<HttpResponseMessage> TagsAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        return await client.SendAsync(request).DefaultTimeout();
    }

    [Fact]
    public async Task AdminKeysFile_ReadAgainOnHangup_LikeTheApiKeysFile()
    {
        var file = Path.Combine(_directory, "admin-keys");
        await File.WriteAllTextAsync(file, "alice: sk-old\n");
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=a"],
            connections: [$"a={A.BaseUri}"],
            adjust: options => options with { Security = new SecurityOptions { AdminKeysFile = file } });
        var proxy = Proxy;
        await File.WriteAllTextAsync(file, "bob: sk-new\n");
        var reread = proxy.Logs.WaitForAsync(static l => l.StartsWith("Information: Admin keys re-read from", StringComparison.Ordinal));
        void Advance() => proxy.Time.Advance(TimeSpan.FromMilliseconds(100));
        proxy.Server.AdminKeys.Settling += Advance;

        proxy.Server.Hangup();
        await reread.DefaultTimeout();
        proxy.Server.AdminKeys.Settling -= Advance;
        using var old = await PostAsync(proxy.Client, "/gollamas/connections/a/probe", "sk-old");
        using var current = await PostAsync(proxy.Client, "/gollamas/connections/a/probe", "sk-new");

        old.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        current.StatusCode.Should().Be(HttpStatusCode.OK);
        proxy.Logs.Lines.Should().Contain("Information: Admin key bob: probe connection a: it answered");
    }

    private static StreamScript SingleLine()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":""},"done":true}"""));
        return script;
    }

    private async Task<ProxyUnderTest> StartAsync(string[]? apiKeys = null, string[]? adminKeys = null, bool adminListen = false, string[]? proxies = null)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: proxies ?? ["llama3.2=a"],
            connections: [$"a={A.BaseUri}", $"b={B.BaseUri}"],
            adjust: options => options with
            {
                Security = new SecurityOptions
                {
                    ApiKeys = apiKeys ?? [],
                    AdminKeys = adminKeys ?? ["ops=" + AdminKey],
                    AdminListen = adminListen ? new ListenAddress("127.0.0.1", 0) : null,
                },
            });
        return Proxy;
    }

    private ConfigReading Reading(string[] proxies) =>
        ConfigReading.Of(new ConfigInput(
            new ConfigEntry("127.0.0.1:0", "--listen"),
            new ConfigEntry("debug", "--level"),
            proxies.Select(static p => new ConfigEntry(p, "--proxy")).ToArray(),
            new[] { $"a={A.BaseUri}", $"b={B.BaseUri}" }.Select(static c => new ConfigEntry(c, "--connection")).ToArray(),
            [],
            null));

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        return await client.SendAsync(request).DefaultTimeout();
    }

    internal static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        return await client.SendAsync(request).DefaultTimeout();
    }
}
