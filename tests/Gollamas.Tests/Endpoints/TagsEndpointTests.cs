using System.Net;
using Gollamas.Hosting;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using static Gollamas.Tests.Endpoints.FakeAnswers;

namespace Gollamas.Tests.Endpoints;

public sealed class TagsEndpointTests : IAsyncLifetime
{
    // Newest of the routed models: 9 fractional digits and a negative offset
    // (UTC 2025-05-05T00:37:44.706015396Z); carries fields no Ollama version has yet, and non-ASCII.
    private const string Llama =
        """{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-05-04T17:37:44.706015396-07:00","size":2019393189,"digest":"a80c4f17acd55265","details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B","quantization_level":"Q4_K_M"},"capabilities":["completion","vision"],"x_future":{"n":2.50,"note":"Ünïcödé 模型 🦙 <b>&","none":null}}""";

    // The same model as the gpu has it, also routed to cpu: must not be listed a second time.
    private const string LlamaOnCpu =
        """{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-05-04T17:37:44.706015396-07:00","size":2019393189,"digest":"cpucopy","details":{"parent_model":"","format":"gguf","family":"llama","families":null,"parameter_size":"3.2B","quantization_level":"Q4_K_M"}}""";

    // UTC 2025-05-04T23:59:59.999999999Z: between the other two.
    private const string Hf =
        """{"name":"hf.co/user/repo:Q4_K_M","model":"hf.co/user/repo:Q4_K_M","modified_at":"2025-05-04T23:59:59.999999999Z","size":4683073184,"digest":"b1c2d3","details":{"parent_model":"","format":"gguf","family":"qwen2","families":["qwen2"],"parameter_size":"7.6B","quantization_level":"Q4_K_M"}}""";

    // UTC 2025-05-04T23:30:00Z: the oldest, though its text (and its local time) sorts first.
    private const string Qwen =
        """{"name":"qwen3:8b","model":"qwen3:8b","modified_at":"2025-05-05T01:30:00+02:00","size":5225388164,"digest":"c3d4e5","details":{"parent_model":"","format":"gguf","family":"qwen3","families":["qwen3"],"parameter_size":"8.2B","quantization_level":"Q4_K_M"}}""";

    // Present upstream but hidden: not configured at all, or configured for the other server.
    private const string Mistral =
        """{"name":"mistral:latest","model":"mistral:latest","modified_at":"2026-01-01T00:00:00Z","size":1,"digest":"e5f6","details":{}}""";

    private const string QwenOnGpu =
        """{"name":"qwen3:8b","model":"qwen3:8b","modified_at":"2026-01-01T00:00:00Z","size":1,"digest":"gpucopy","details":{}}""";

    private FakeOllamaServer _gpu = null!;
    private FakeOllamaServer _cpu = null!;
    private ProxyUnderTest? _proxy;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _cpu = await FakeOllamaServer.StartAsync("cpu");
        ServeJson(_gpu, "/api/tags", Models(Mistral, QwenOnGpu, Llama));
        ServeJson(_cpu, "/api/tags", Models(Qwen, LlamaOnCpu, Hf));
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
    public async Task Tags_TwoServers_MergedFilteredToRoutedModelsNewestFirstEachOnce()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        using var response = await proxy.Client.GetAsync("/api/tags");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be(JsonContentType);
        (await response.Content.ReadAsStringAsync()).Should().Be(Models(Llama, Hf, Qwen));
    }

    [Fact]
    public async Task Tags_CloudModelWithAnAlias_EveryFieldTheServerSentKeptOnBothEntries()
    {
        // A cloud model as Ollama lists it, and fields no Ollama version has yet.
        const string cloud =
            """{"name":"gpt-oss:120b-cloud","model":"gpt-oss:120b-cloud","remote_model":"gpt-oss:120b","remote_host":"https://ollama.com:443","modified_at":"2025-09-18T10:00:00Z","size":384,"digest":"d1e2","details":{"parent_model":"","format":"","family":"gptoss","families":["gptoss"],"parameter_size":"116.8B","quantization_level":"MXFP4"},"capabilities":["completion","tools","thinking"],"x_future":[1,{"a":null}]}""";
        ServeJson(_gpu, "/api/tags", Models(Mistral, cloud));
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: ["gpt-oss:120b-cloud=gpu"],
            connections: [$"gpu={_gpu.BaseUri}"],
            aliases: ["big=gpt-oss:120b-cloud"],
            listAliases: true);

        var body = await _proxy.Client.GetStringAsync("/api/tags");

        body.Should().Be(Models(cloud, AsAlias(cloud, "gpt-oss:120b-cloud", "big")));
    }

    [Fact]
    public async Task Tags_NonAsciiAndUnknownFields_PassThroughByteForByte()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        var body = await proxy.Client.GetByteArrayAsync("/api/tags");

        var text = System.Text.Encoding.UTF8.GetString(body);
        text.Should().Contain("\"x_future\":{\"n\":2.50,\"note\":\"Ünïcödé 模型 🦙 <b>&\",\"none\":null}");
        text.Should().NotContain("\\u");
    }

    [Fact]
    public async Task Tags_ListAliases_EachEntryFollowedByItsAliasesWithNameAndModelReplaced()
    {
        var proxy = await StartProxyAsync(listAliases: true);

        var body = await proxy.Client.GetStringAsync("/api/tags");

        body.Should().Be(Models(
            Llama,
            AsAlias(Llama, "llama3.2:latest", "gpt-4o"),
            AsAlias(Llama, "llama3.2:latest", "my-llama"),
            Hf,
            Qwen,
            AsAlias(Qwen, "qwen3:8b", "coder")));
    }

    [Fact]
    public async Task Tags_WithoutListAliases_AliasesAreNotListed()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        var body = await proxy.Client.GetStringAsync("/api/tags");

        body.Should().NotContain("gpt-4o").And.NotContain("my-llama").And.NotContain("coder");
    }

    [Fact]
    public async Task Tags_NoRoutedModelUpstream_EmptyArrayNotNull()
    {
        ServeJson(_gpu, "/api/tags", Models(Mistral));
        ServeJson(_cpu, "/api/tags", Models());
        var proxy = await StartProxyAsync(listAliases: true);

        using var response = await proxy.Client.GetAsync("/api/tags");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"models":[]}""");
    }

    [Fact]
    public async Task Tags_Head_Returns200JsonContentTypeAndNoBody()
    {
        var proxy = await StartProxyAsync(listAliases: false);

        using var request = new HttpRequestMessage(HttpMethod.Head, "/api/tags");
        using var response = await proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be(JsonContentType);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        _gpu.Requests.Should().ContainSingle(r => r.Path == "/api/tags").Which.Method.Should().Be("GET");
    }

    [Fact]
    public async Task Tags_ServerDown_LeftOutWithWarningAndTheOthersModelsStillListed()
    {
        var down = RawLoopbackServer.ClosedPortUri();
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=gpu", "qwen3:8b=down"],
            connections: [$"gpu={_gpu.BaseUri}", $"down={down}"]);

        using var response = await _proxy.Client.GetAsync("/api/tags");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(Models(Llama));
        _proxy.Logs.Lines.Should().Contain(l => l.StartsWith("Warning: ", StringComparison.Ordinal)
            && l.Contains($"'down' ({down})", StringComparison.Ordinal)
            && l.Contains("/api/tags", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Tags_ServerSilent_LeftOutAfterTheFanOutTimeoutWithWarning()
    {
        await using var silent = RawLoopbackServer.StartSilent();
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=gpu", "qwen3:8b=silent"],
            connections: [$"gpu={_gpu.BaseUri}", $"silent={silent.BaseUri}"],
            // Long enough that the answering server is never cut on a loaded machine; the silent
            // one costs exactly this long.
            limits: new ServerLimits { FanOutTimeout = TimeSpan.FromSeconds(2) });

        using var response = await _proxy.Client.GetAsync("/api/tags").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(Models(Llama));
        (await silent.WaitForRequestAsync().DefaultTimeout()).Target.Should().Be("/api/tags");
        _proxy.Logs.Lines.Should().Contain(l => l.StartsWith("Warning: ", StringComparison.Ordinal)
            && l.Contains($"'silent' ({silent.BaseUri})", StringComparison.Ordinal)
            && l.Contains("/api/tags", StringComparison.Ordinal));
    }

    private async Task<ProxyUnderTest> StartProxyAsync(bool listAliases)
    {
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: ["llama3.2=gpu", "llama3.2=cpu", "qwen3:8b=cpu", "hf.co/user/repo:Q4_K_M=cpu"],
            connections: [$"gpu={_gpu.BaseUri}", $"cpu={_cpu.BaseUri}"],
            aliases: ["gpt-4o=llama3.2", "my-llama=llama3.2", "coder=qwen3:8b"],
            listAliases: listAliases);
        return _proxy;
    }
}
