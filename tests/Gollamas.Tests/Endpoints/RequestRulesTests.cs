using System.Net;
using System.Text;
using Gollamas.Bodies;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Endpoints;

/// <summary>
/// A model's request rules (a default, a forced value, a strip) as a real fake server receives the body, through
/// every model-loading endpoint; another model's requests untouched.
/// </summary>
public sealed class RequestRulesTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;
    private ProxyUnderTest _proxy = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        RequestRuleEntry[] rules =
        [
            new("gpt-4o", RuleAction.Default, "options.temperature", "0.2", "test rule 1"),
            new("llama3.2", RuleAction.Force, "keep_alive", "-1", "test rule 2"),
            new("llama3.2", RuleAction.Strip, "think", null, "test rule 3"),
            new("qwen3:8b", RuleAction.Strip, "options.seed", null, "test rule 4"),
        ];
        _proxy = await ProxyUnderTest.StartAsync(
            [$"llama3.2={_gpu.BaseUri}", $"qwen3:8b={_gpu.BaseUri}", $"mistral={_gpu.BaseUri}"],
            aliases: ["gpt-4o=llama3.2"],
            input: given => given with { RequestRules = rules });
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _gpu.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(LifecycleSettingsTests.NativeEndpoints), MemberType = typeof(LifecycleSettingsTests))]
    public async Task ModelRules_DefaultForceAndStrip_ReachTheServer(string path)
    {
        var received = await SendAsync(path, """{"think":true,"model":"gpt-4o","keep_alive":0,"options":{"seed":1},"THINK":"high","stream":false}""");

        received.Should().Be("""{"model":"llama3.2","keep_alive":-1,"options":{"seed":1,"temperature":0.2},"stream":false}""");
    }

    [Theory]
    [MemberData(nameof(LifecycleSettingsTests.NativeEndpoints), MemberType = typeof(LifecycleSettingsTests))]
    public async Task OtherModels_GetTheirOwnRulesOrNone(string path)
    {
        const string Body = """{"model":"mistral","think":true,"keep_alive":0,"options":{"seed":1}}""";

        var qwen = await SendAsync(path, Body.Replace("mistral", "qwen3:8b", StringComparison.Ordinal));
        var mistral = await SendAsync(path, Body);

        qwen.Should().Be("""{"model":"qwen3:8b","think":true,"keep_alive":0,"options":{}}""");
        mistral.Should().Be(Body);
    }

    [Fact]
    public async Task LargeBodyInAFile_WithMoreSplicesThanInline_ReachesTheServerByteForByteElsewhere()
    {
        // 3 MB goes to a temporary file; alias, strip, force and default make four splices.
        var image = Convert.ToBase64String(new byte[3 * 1024 * 1024]);
        var body = $$"""{"think":true,"model":"gpt-4o","messages":[{"role":"user","images":["{{image}}"]}],"keep_alive":"5m"}""";

        var received = await SendAsync("/api/chat", body);

        var expected = $$$"""{"model":"llama3.2","messages":[{"role":"user","images":["{{{image}}}"]}],"keep_alive":-1,"options":{"temperature":0.2}}""";
        (received == expected).Should().BeTrue("only the rules' fields and the model differ");
    }

    [Fact]
    public async Task OpenAiRequests_AreForwardedUnchanged()
    {
        const string Body = """{"model":"llama3.2","think":true,"messages":[]}""";

        var received = await SendAsync("/v1/chat/completions", Body);

        received.Should().Be(Body);
    }

    [Fact]
    public void StartUp_LogsEveryRuleOfAModel()
    {
        _proxy.Logs.Lines.Should().Contain("Information: Model llama3.2 requests get temperature 0.2 when absent, keep_alive -1 (forced), think removed")
            .And.Contain("Information: Model qwen3:8b requests get seed removed")
            .And.NotContain(static l => l.Contains("Model mistral requests get", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StrippedFieldRepeatedTooOften_IsRefusedAndNotForwarded()
    {
        var body = "{\"model\":\"llama3.2\"" + string.Concat(Enumerable.Repeat(",\"think\":true", BodyLayout.MaxMembers + 1)) + "}";
        var before = _gpu.Requests.Count;

        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent(body, Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Be($$"""{"error":"gollamas: the request body repeats a field this proxy removes more than {{BodyLayout.MaxMembers}} times"}""");
        _gpu.Requests.Count.Should().Be(before);
    }

    // Posts the body and returns what the fake server received for it.
    private async Task<string> SendAsync(string path, string body)
    {
        var before = _gpu.Requests.Count;
        using var response = await _proxy.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());

        // The fake records a request before it answers it.
        return _gpu.Requests.Skip(before).Single(r => r.Path == path).BodyText;
    }
}
