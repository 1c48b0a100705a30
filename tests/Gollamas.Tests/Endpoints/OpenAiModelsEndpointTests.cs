using System.Net;
using Gollamas.Hosting;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Endpoints;

public sealed class OpenAiModelsEndpointTests : IAsyncLifetime
{
    // created = modified_at as Unix seconds, whatever the offset.
    private const string LlamaEntry = """{"id":"llama3.2:latest","object":"model","created":1746405464,"owned_by":"library"}""";
    private const string HfEntry = """{"id":"hf.co/user/repo:Q4_K_M","object":"model","created":1746403199,"owned_by":"user"}""";
    private const string MattwEntry = """{"id":"mattw/x:latest","object":"model","created":1704047400,"owned_by":"mattw"}""";

    private FakeOllamaServer _gpu = null!;
    private FakeOllamaServer _cpu = null!;
    private ProxyUnderTest? _proxy;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _cpu = await FakeOllamaServer.StartAsync("cpu");
        _gpu.Models = [new FakeModel("llama3.2:latest"), new FakeModel("mistral:latest") { ModifiedAt = "2030-01-01T00:00:00Z" }];
        _cpu.Models =
        [
            new FakeModel("mattw/x:latest") { ModifiedAt = "2024-01-01T00:00:00+05:30" },
            new FakeModel("hf.co/user/repo:Q4_K_M") { ModifiedAt = "2025-05-04T23:59:59.5Z" },
        ];
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _gpu.DisposeAsync();
        await _cpu.DisposeAsync();
    }

    [Fact]
    public async Task Models_TwoServers_OpenAiListInTagsOrder()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        using var response = await proxy.Client.GetAsync("/v1/models");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.Content.ReadAsStringAsync()).Should().Be(
            $$"""{"object":"list","data":[{{LlamaEntry}},{{HfEntry}},{{MattwEntry}}]}""");
    }

    [Fact]
    public async Task Models_ListAliases_AliasesFollowTheirModel()
    {
        var proxy = await StartProxyAsync(listAliases: true);

        var body = await proxy.Client.GetStringAsync("/v1/models");

        body.Should().Be(
            $$"""{"object":"list","data":[{{LlamaEntry}},{"id":"gpt-4o","object":"model","created":1746405464,"owned_by":"library"},{{HfEntry}},{{MattwEntry}}]}""");
    }

    [Fact]
    public async Task Models_NoRoutedModelUpstream_DataIsAnEmptyArray()
    {
        _gpu.Models = [];
        _cpu.Models = [new FakeModel("mistral:latest")];
        var proxy = await StartProxyAsync(listAliases: true);

        var body = await proxy.Client.GetStringAsync("/v1/models");

        body.Should().Be("""{"object":"list","data":[]}""");
    }

    [Theory]
    [InlineData("llama3.2")]
    [InlineData("llama3.2:latest")]
    [InlineData("LLAMA3.2:latest")]
    public async Task Model_Routed_IdIsThePathSegmentAndCreatedComesFromShow(string segment)
    {
        AnswerShow(_gpu, "2025-01-02T03:04:05.9+01:00");
        var proxy = await StartProxyAsync(listAliases: false);

        using var response = await proxy.Client.GetAsync("/v1/models/" + segment);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.Content.ReadAsStringAsync()).Should().Be(
            $$"""{"id":"{{segment}}","object":"model","created":1735783445,"owned_by":"library"}""");
        var show = await _gpu.WaitForRequestAsync(r => r.Path == "/api/show").DefaultTimeout();
        show.Method.Should().Be("POST");
        show.BodyText.Should().Be("""{"model":"llama3.2"}""");
    }

    [Fact]
    public async Task Model_Alias_AnsweredUnderTheAliasAndShowAskedForTheConcreteModel()
    {
        AnswerShow(_gpu, "2025-01-02T03:04:05.9+01:00");
        var proxy = await StartProxyAsync(listAliases: false);

        var body = await proxy.Client.GetStringAsync("/v1/models/gpt-4o");

        body.Should().Be("""{"id":"gpt-4o","object":"model","created":1735783445,"owned_by":"library"}""");
        (await _gpu.WaitForRequestAsync(r => r.Path == "/api/show").DefaultTimeout()).BodyText.Should().Be("""{"model":"llama3.2"}""");
        _cpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Model_OnTheSecondServer_ShowGoesToThatServer()
    {
        AnswerShow(_cpu, "2023-12-31T18:30:00Z");
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=gpu", "qwen3:8b=cpu"],
            connections: [$"gpu={_gpu.BaseUri}", $"cpu={_cpu.BaseUri}"]);

        var body = await _proxy.Client.GetStringAsync("/v1/models/qwen3:8b");

        body.Should().Be("""{"id":"qwen3:8b","object":"model","created":1704047400,"owned_by":"library"}""");
        (await _cpu.WaitForRequestAsync(r => r.Path == "/api/show").DefaultTimeout()).BodyText.Should().Be("""{"model":"qwen3:8b"}""");
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Model_Misspelt_404OpenAiEnvelopeNamingTheClosestModel()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        using var response = await proxy.Client.GetAsync("/v1/models/lama3.2");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"error":{"message":"model 'lama3.2' not found; did you mean llama3.2?","type":"not_found_error","param":null,"code":null}}""");
        _gpu.Requests.Should().BeEmpty();
        _cpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Models_CloudModel_ListedAsOllamaListsIt()
    {
        FakeAnswers.ServeJson(_gpu, "/api/tags", FakeAnswers.Models(
            """{"name":"gpt-oss:120b-cloud","model":"gpt-oss:120b-cloud","remote_model":"gpt-oss:120b","remote_host":"https://ollama.com:443","modified_at":"2025-09-18T10:00:00Z","size":384,"digest":"d1e2","details":{},"capabilities":["completion","tools"]}"""));
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: ["gpt-oss:120b-cloud=gpu"],
            connections: [$"gpu={_gpu.BaseUri}"]);

        var body = await _proxy.Client.GetStringAsync("/v1/models");

        // Ollama's /v1/models entry has these four fields, whatever its /api/tags entry holds.
        body.Should().Be("""{"object":"list","data":[{"id":"gpt-oss:120b-cloud","object":"model","created":1758189600,"owned_by":"library"}]}""");
    }

    [Fact]
    public async Task Model_NameWithAnEncodedSlash_Is404LikeOllamasSingleSegmentRoute()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        using var response = await proxy.Client.GetAsync("/v1/models/mattw%2Fx");

        response.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":{"message":"model 'mattw%2Fx' not found","type":"not_found_error","param":null,"code":null}}""");
        _cpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Model_NotRouted_404OpenAiEnvelopeAndNothingForwarded()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        using var response = await proxy.Client.GetAsync("/v1/models/mistral");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"error":{"message":"model 'mistral' not found","type":"not_found_error","param":null,"code":null}}""");
        _gpu.Requests.Should().BeEmpty();
        _cpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Model_ServerAnswers404_404OpenAiEnvelopeWithItsMessage()
    {
        _gpu.UnknownModels.Add("llama3.2");
        var proxy = await StartProxyAsync(listAliases: false);

        using var response = await proxy.Client.GetAsync("/v1/models/llama3.2");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"error":{"message":"model 'llama3.2' not found","type":"not_found_error","param":null,"code":null}}""");
    }

    [Fact]
    public async Task Model_ServerDown_502OpenAiEnvelope()
    {
        var down = RawLoopbackServer.ClosedPortUri();
        _proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={down}"]);

        using var response = await _proxy.Client.GetAsync("/v1/models/llama3.2");

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should()
            .StartWith($$"""{"error":{"message":"gollamas: Ollama server on connection 1 is unreachable: """)
            .And.EndWith("\",\"type\":\"api_error\",\"param\":null,\"code\":null}}");
    }

    [Fact]
    public async Task Model_ServerSilent_504OpenAiEnvelopeAfterTheFanOutTimeout()
    {
        await using var silent = RawLoopbackServer.StartSilent();
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={silent.BaseUri}"],
            limits: new ServerLimits { FanOutTimeout = TimeSpan.FromMilliseconds(300) });

        using var response = await _proxy.Client.GetAsync("/v1/models/llama3.2").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            $$$"""{"error":{"message":"gollamas: Ollama server on connection 1 timed out: no answer within 300ms","type":"api_error","param":null,"code":null}}""");
        (await silent.WaitForRequestAsync().DefaultTimeout()).Target.Should().Be("/api/show");
    }

    [Fact]
    public async Task Models_Post_405OpenAiEnvelopeWithAllowGet()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        using var response = await proxy.Client.PostAsync("/v1/models/llama3.2", new StringContent("{}"));

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Equal("GET");
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"error":{"message":"method POST not allowed on /v1/models/llama3.2","type":"api_error","param":null,"code":null}}""");
        _gpu.Requests.Should().BeEmpty();
    }

    /// <summary>Makes <c>/api/show</c> report a <c>modified_at</c> that differs from the one <c>/api/tags</c> lists.</summary>
    private static void AnswerShow(FakeOllamaServer fake, string modifiedAt) =>
        fake.Map("POST", "/api/show", (context, _) =>
        {
            var body = System.Text.Encoding.UTF8.GetBytes(
                $$"""{"modelfile":"","details":{"family":"llama"},"capabilities":["completion"],"modified_at":"{{modifiedAt}}"}""");
            context.Response.ContentType = FakeAnswers.JsonContentType;
            return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
        });

    private async Task<ProxyUnderTest> StartProxyAsync(bool listAliases)
    {
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: ["mattw/x:latest=cpu", "hf.co/user/repo:Q4_K_M=cpu", "llama3.2=gpu"],
            connections: [$"gpu={_gpu.BaseUri}", $"cpu={_cpu.BaseUri}"],
            aliases: ["gpt-4o=llama3.2"],
            listAliases: listAliases);
        return _proxy;
    }
}
