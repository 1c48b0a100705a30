using System.Net;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Endpoints;

/// <summary>
/// keep_alive and num_ctx as a real fake server receives them, through every model-loading
/// endpoint, for every setting.
/// </summary>
public sealed class LifecycleSettingsTests : IAsyncLifetime
{
    public static readonly TheoryData<string> NativeEndpoints = new() { "/api/generate", "/api/chat", "/api/embed", "/api/embeddings" };

    private FakeOllamaServer _gpu = null!;
    private ProxyUnderTest? _proxy;

    public async Task InitializeAsync() => _gpu = await FakeOllamaServer.StartAsync("gpu");

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _gpu.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(NativeEndpoints))]
    public async Task Defaults_AreAddedWhenAbsent(string path)
    {
        await StartAsync("--keep-alive", "10m", "--num-ctx", "8192");

        var received = await SendAsync(path, """{"model":"llama3.2","stream":false}""");

        received.Should().Be("""{"model":"llama3.2","stream":false,"keep_alive":600,"options":{"num_ctx":8192}}""");
    }

    [Theory]
    [MemberData(nameof(NativeEndpoints))]
    public async Task Defaults_KeepTheClientsValues(string path)
    {
        await StartAsync("--keep-alive", "10m", "--num-ctx", "8192");
        const string Body = """{"model":"llama3.2","keep_alive":"5m","options":{"temperature":0.1,"num_ctx":2048},"stream":false}""";

        var received = await SendAsync(path, Body);

        received.Should().Be(Body);
    }

    [Theory]
    [MemberData(nameof(NativeEndpoints))]
    public async Task Defaults_NullCountsAsAbsent_AndOtherOptionsStay(string path)
    {
        await StartAsync("--keep-alive", "-1", "--num-ctx", "8192");

        var received = await SendAsync(path, """{"model":"llama3.2","keep_alive":null,"options":{"temperature":0.1,"seed":7}}""");

        received.Should().Be("""{"model":"llama3.2","keep_alive":null,"options":{"temperature":0.1,"seed":7,"num_ctx":8192},"keep_alive":-1}""");
    }

    [Theory]
    [MemberData(nameof(NativeEndpoints))]
    public async Task Forced_ReplaceTheClientsValues(string path)
    {
        await StartAsync("--force-keep-alive", "-1", "--force-num-ctx", "4096");

        var received = await SendAsync(path, """{"model":"llama3.2","keep_alive":0,"options":{"num_ctx":2048,"temperature":0.1},"stream":false}""");

        received.Should().Be("""{"model":"llama3.2","keep_alive":-1,"options":{"num_ctx":4096,"temperature":0.1},"stream":false}""");
    }

    [Theory]
    [MemberData(nameof(NativeEndpoints))]
    public async Task Forced_AreAddedWhenAbsent(string path)
    {
        await StartAsync("--force-keep-alive", "1h30m", "--force-num-ctx", "4096");

        var received = await SendAsync(path, """{"model":"llama3.2"}""");

        received.Should().Be("""{"model":"llama3.2","keep_alive":5400,"options":{"num_ctx":4096}}""");
    }

    [Fact]
    public async Task PerModel_WinsOverGlobal_WhateverNameTheRequestUses()
    {
        await StartAsync("--num-ctx", "8192", "--force-num-ctx", "gpt-4o=16384", "--keep-alive", "qwen3:8b=-1");

        var viaAlias = await SendAsync("/api/chat", """{"model":"GPT-4o:latest","options":{"num_ctx":1}}""");
        var viaLongName = await SendAsync("/api/generate", """{"model":"registry.ollama.ai/library/llama3.2:latest"}""");
        var other = await SendAsync("/api/embed", """{"model":"qwen3:8b","input":"hi"}""");

        viaAlias.Should().Be("""{"model":"llama3.2","options":{"num_ctx":16384}}""");
        viaLongName.Should().Be("""{"model":"registry.ollama.ai/library/llama3.2:latest","options":{"num_ctx":16384}}""");
        other.Should().Be("""{"model":"qwen3:8b","input":"hi","keep_alive":-1,"options":{"num_ctx":8192}}""");
        _proxy!.Logs.Lines.Should().Contain("Information: Model llama3.2 requests get num_ctx 16384 (forced)")
            .And.Contain("Information: Model qwen3:8b requests get keep_alive -1 when absent, num_ctx 8192 when absent");
    }

    [Fact]
    public async Task LargeImageBody_ReachesTheServerByteForByte_ExceptTheAddedFields()
    {
        await StartAsync("--keep-alive", "-1", "--num-ctx", "8192");
        var image = Convert.ToBase64String(RandomBytes(5 * 1024 * 1024));
        var body = $$"""{"model":"gpt-4o","messages":[{"role":"user","content":"what is this?","images":["{{image}}"]}],"stream":false}""";

        var received = await SendAsync("/api/chat", body);

        received.Length.Should().BeGreaterThan(5 * 1024 * 1024);
        var expected = body.Replace("\"gpt-4o\"", "\"llama3.2\"", StringComparison.Ordinal)[..^1] + ""","keep_alive":-1,"options":{"num_ctx":8192}}""";
        (received == expected).Should().BeTrue("only the model name and the two added members differ");
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/v1/embeddings", """{"model":"llama3.2","input":"hi"}""")]
    [InlineData("/api/show", """{"model":"llama3.2"}""")]
    [InlineData("/api/pull", """{"model":"llama3.2","stream":false}""")]
    public async Task OtherEndpoints_AreForwardedUnchanged(string path, string body)
    {
        await StartAsync("--force-keep-alive", "-1", "--force-num-ctx", "4096");

        var received = await SendAsync(path, body);

        received.Should().Be(body);
    }

    [Fact]
    public async Task OpenAiRequests_ToAModelWithANumCtxSetting_AreWarnedAboutOnce()
    {
        await StartAsync("--num-ctx", "llama3.2=8192");

        await SendAsync("/v1/chat/completions", """{"model":"gpt-4o","messages":[]}""");
        await SendAsync("/v1/completions", """{"model":"llama3.2","prompt":"hi"}""");
        await SendAsync("/v1/embeddings", """{"model":"qwen3:8b","input":"hi"}""");

        _proxy!.Logs.Lines.Where(static l => l.Contains("cannot carry it", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().StartWith("Warning: Model llama3.2 has num_ctx 8192, but OpenAI- and Anthropic-compatible (/v1) requests cannot carry it");
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        return bytes;
    }

    private async Task StartAsync(params string[] flags) =>
        _proxy = await ProxyUnderTest.StartAsync(
            [$"llama3.2={_gpu.BaseUri}", $"qwen3:8b={_gpu.BaseUri}"],
            aliases: ["gpt-4o=llama3.2"],
            input: ProxyUnderTest.Flags(flags));

    // Posts the body and returns what the fake server received for it.
    private async Task<string> SendAsync(string path, string body)
    {
        var before = _gpu.Requests.Count;
        using var response = await _proxy!.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());

        // The fake records a request before it answers it.
        return _gpu.Requests.Skip(before).Single(r => r.Path == path).BodyText;
    }
}
