using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using static Gollamas.Tests.Endpoints.FakeAnswers;

namespace Gollamas.Tests.Endpoints;

public sealed class PsEndpointTests : IAsyncLifetime
{
    private const string Qwen =
        """{"name":"qwen3:8b","model":"qwen3:8b","size":6654289920,"digest":"c3d4e5","details":{"parent_model":"","format":"gguf","family":"qwen3","families":["qwen3"],"parameter_size":"8.2B","quantization_level":"Q4_K_M"},"expires_at":"2318-09-16T02:11:43.145224192+02:00","size_vram":6654289920,"context_length":40960}""";

    private const string Llama =
        """{"name":"llama3.2:latest","model":"llama3.2:latest","size":3355443200,"digest":"a80c4f17","details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B","quantization_level":"Q4_K_M"},"expires_at":"2025-06-04T14:38:31.83753-07:00","size_vram":1677721600,"context_length":4096,"x_future":"модель"}""";

    private const string Hf =
        """{"name":"hf.co/user/repo:Q4_K_M","model":"hf.co/user/repo:Q4_K_M","size":1,"digest":"b1c2d3","details":{},"expires_at":"2025-06-04T21:00:00Z","size_vram":1}""";

    // Running upstream, but not routed there (or not at all): hidden.
    private const string Mistral =
        """{"name":"mistral:latest","model":"mistral:latest","size":1,"digest":"e5f6","details":{},"expires_at":"2025-06-04T21:00:00Z","size_vram":1}""";

    private const string LlamaOnCpu =
        """{"name":"llama3.2:latest","model":"llama3.2:latest","size":1,"digest":"cpucopy","details":{},"expires_at":"2025-06-04T21:00:00Z","size_vram":1}""";

    private FakeOllamaServer _gpu = null!;
    private FakeOllamaServer _cpu = null!;
    private ProxyUnderTest _proxy = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _cpu = await FakeOllamaServer.StartAsync("cpu");
        ServeJson(_gpu, "/api/ps", Models(Qwen, Mistral, Llama));
        ServeJson(_cpu, "/api/ps", Models(LlamaOnCpu, Hf));
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: ["qwen3:8b=gpu", "llama3.2=gpu", "hf.co/user/repo:Q4_K_M=cpu"],
            connections: [$"gpu={_gpu.BaseUri}", $"cpu={_cpu.BaseUri}"],
            aliases: ["gpt-4o=llama3.2"]);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _gpu.DisposeAsync();
        await _cpu.DisposeAsync();
    }

    [Fact]
    public async Task Ps_TwoServers_MergedFilteredAndSortedByName()
    {
        using var response = await _proxy.Client.GetAsync("/api/ps");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be(JsonContentType);
        (await response.Content.ReadAsStringAsync()).Should().Be(Models(Hf, Llama, Qwen));
        _gpu.Requests.Should().ContainSingle().Which.Path.Should().Be("/api/ps");
        _cpu.Requests.Should().ContainSingle().Which.Path.Should().Be("/api/ps");
    }

    [Fact]
    public async Task Ps_NothingRoutedIsRunning_EmptyArray()
    {
        ServeJson(_gpu, "/api/ps", Models(Mistral));
        ServeJson(_cpu, "/api/ps", Models());

        var body = await _proxy.Client.GetStringAsync("/api/ps");

        body.Should().Be("""{"models":[]}""");
    }

    [Fact]
    public async Task Ps_Head_Returns405JsonWithAllowGet()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/api/ps");
        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Equal("GET");
        response.Content.Headers.ContentType!.ToString().Should().Be(JsonContentType);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        _gpu.Requests.Should().BeEmpty();
        _cpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Ps_Post_Returns405WithTheMessageInOllamasShape()
    {
        using var response = await _proxy.Client.PostAsync("/api/ps", new StringContent("{}"));

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Equal("GET");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"method POST not allowed on /api/ps"}""");
    }
}
