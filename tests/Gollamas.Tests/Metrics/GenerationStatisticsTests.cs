using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Metrics;

/// <summary>
/// What Ollama's final chunk says, end to end: a fake server sends given statistics, the proxy's
/// /metrics and the connection's <see cref="ModelStatistics"/> show them.
/// </summary>
public sealed class GenerationStatisticsTests : TwoServersTest
{
    private const string Line = """{"model":"llama3.2","created_at":"2025-01-02T03:04:05Z","message":{"role":"assistant","content":"Hi"},"done":false}""";

    // A cold chat: 2.5 s to load, 300 prompt tokens in 0.5 s, 100 generated in 4 s.
    private const string ColdFinal = """{"model":"llama3.2","created_at":"2025-01-02T03:04:05Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":7100000000,"load_duration":2500000000,"prompt_eval_count":300,"prompt_eval_duration":500000000,"eval_count":100,"eval_duration":4000000000}""";

    private static readonly string s_llama = Canonical("llama3.2");

    private string Labels => $"model=\"llama3.2\",connection=\"{A.BaseUri.Authority}\"";

    [Fact]
    public async Task Chat_StreamedColdGeneration_MetricsAndStoreFromItsFinalChunk()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine(Line));
        script.AddGated(StreamScript.NdjsonLine(ColdFinal), out var final);
        A.MapScript("POST", "/api/chat", script);

        var sent = Stopwatch.GetTimestamp();
        using var response = await SendAsync("/api/chat", """{"model":"llama3.2"}""");
        var body = await response.Content.ReadAsStreamAsync();
        await ReadUntilAsync(body, Line);
        var firstLineSeen = Stopwatch.GetElapsedTime(sent);
        final.Open();
        await ReadToEndAsync(body);
        var lines = await MetricsAfterAsync("POST /api/chat 200");

        lines.Should().Contain($"gollamas_generations_total{{{Labels}}} 1");
        lines.Should().Contain($"gollamas_cold_loads_total{{{Labels}}} 1");
        lines.Should().Contain($"gollamas_load_duration_seconds_bucket{{{Labels},le=\"1\"}} 0");
        lines.Should().Contain($"gollamas_load_duration_seconds_bucket{{{Labels},le=\"2.5\"}} 1");
        lines.Should().Contain($"gollamas_load_duration_seconds_sum{{{Labels}}} 2.5");
        lines.Should().Contain($"gollamas_load_duration_seconds_count{{{Labels}}} 1");
        lines.Should().Contain($"gollamas_prompt_eval_tokens_total{{{Labels}}} 300");
        lines.Should().Contain($"gollamas_prompt_eval_seconds_total{{{Labels}}} 0.5");
        lines.Should().Contain($"gollamas_eval_tokens_total{{{Labels}}} 100");
        lines.Should().Contain($"gollamas_eval_seconds_total{{{Labels}}} 4");
        lines.Should().Contain($"gollamas_time_to_first_token_seconds_count{{{Labels}}} 1");
        lines.Should().Contain($"gollamas_prompt_tokens_total{{{Labels}}} 300");
        lines.Should().Contain($"gollamas_generated_tokens_total{{{Labels}}} 100");
        var firstToken = Sum(lines, "gollamas_time_to_first_token_seconds");
        firstToken.Should().BePositive().And.BeLessThanOrEqualTo(firstLineSeen.TotalSeconds, "the first token is the first line, which the client saw before the final one was sent");
        Statistics(A).TryGet(s_llama, out var snapshot).Should().BeTrue();
        snapshot.Generations.Should().Be(1);
        snapshot.ColdLoads.Should().Be(1);
        snapshot.LoadSeconds.Should().Be(2.5);
        snapshot.PromptTokensPerSecond.Should().Be(600);
        snapshot.EvalTokensPerSecond.Should().Be(25);
        snapshot.ServiceSeconds.Should().Be(4.5);
        snapshot.TimeToFirstTokenSeconds.Should().BeApproximately(firstToken, 1e-5);
    }

    [Fact]
    public async Task Generate_AnswerSentWhole_StatisticsWithoutTimeToFirstToken()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);
        var script = new StreamScript("application/json; charset=utf-8");
        var context = string.Join(",", Enumerable.Range(1, 3000));
        script.Add("""{"model":"llama3.2","created_at":"2025-01-02T03:04:05Z","response":"Hello","done":true,"done_reason":"stop","context":[""" + context + """],"total_duration":1000000000,"load_duration":4000000,"prompt_eval_count":20,"prompt_eval_duration":100000000,"eval_count":30,"eval_duration":600000000}""");
        A.MapScript("POST", "/api/generate", script);

        using (var response = await SendAsync("/api/generate", """{"model":"llama3.2","stream":false}"""))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            await response.Content.ReadAsStringAsync();
        }

        var lines = await MetricsAfterAsync("POST /api/generate 200");

        lines.Should().Contain($"gollamas_generations_total{{{Labels}}} 1");
        lines.Should().Contain($"gollamas_cold_loads_total{{{Labels}}} 0", "4 ms is a warm request");
        lines.Should().Contain($"gollamas_load_duration_seconds_count{{{Labels}}} 0");
        lines.Should().Contain($"gollamas_prompt_eval_tokens_total{{{Labels}}} 20");
        lines.Should().Contain($"gollamas_eval_seconds_total{{{Labels}}} 0.6");
        lines.Should().NotContain(l => l.StartsWith("gollamas_time_to_first_token_seconds_count", StringComparison.Ordinal));
        Statistics(A).TryGet(s_llama, out var snapshot).Should().BeTrue();
        snapshot.Should().Be(new ModelStatisticsSnapshot(1, 0, null, 200, 50, 0.7, null, snapshot.LastUpdated));
    }

    [Fact]
    public async Task Chat_FinalChunkCutAcrossReads_StatisticsWhole()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);
        const string Marker = "\"prompt_eval_duration\":5000";
        var cut = ColdFinal.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length;
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine(Line) + ColdFinal[..cut]);
        script.AddGated(StreamScript.NdjsonLine(ColdFinal[cut..]), out var rest);
        A.MapScript("POST", "/api/chat", script);

        using var response = await SendAsync("/api/chat", """{"model":"llama3.2"}""");
        var body = await response.Content.ReadAsStreamAsync();
        await ReadUntilAsync(body, ColdFinal[..cut]);
        rest.Open();
        await ReadToEndAsync(body);
        var lines = await MetricsAfterAsync("POST /api/chat 200");

        lines.Should().Contain($"gollamas_prompt_eval_seconds_total{{{Labels}}} 0.5");
        lines.Should().Contain($"gollamas_eval_tokens_total{{{Labels}}} 100");
        Statistics(A).TryGet(s_llama, out var snapshot).Should().BeTrue();
        snapshot.PromptTokensPerSecond.Should().Be(600);
        snapshot.EvalTokensPerSecond.Should().Be(25);
        snapshot.LoadSeconds.Should().Be(2.5);
    }

    [Fact]
    public async Task Chat_FinalChunkWithoutLoadOrPrompt_OnlyWhatItSaysIsCounted()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine(Line));
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"role":"assistant","content":""},"done":true,"total_duration":900000000,"eval_count":12,"eval_duration":300000000}"""));
        A.MapScript("POST", "/api/chat", script);

        using (var response = await SendAsync("/api/chat", """{"model":"llama3.2"}"""))
        {
            await response.Content.ReadAsStringAsync();
        }

        var lines = await MetricsAfterAsync("POST /api/chat 200");

        lines.Should().Contain($"gollamas_generations_total{{{Labels}}} 1");
        lines.Should().Contain($"gollamas_cold_loads_total{{{Labels}}} 0");
        lines.Should().Contain($"gollamas_prompt_eval_tokens_total{{{Labels}}} 0");
        lines.Should().Contain($"gollamas_prompt_eval_seconds_total{{{Labels}}} 0");
        lines.Should().Contain($"gollamas_eval_tokens_total{{{Labels}}} 12");
        lines.Should().Contain($"gollamas_eval_seconds_total{{{Labels}}} 0.3");
        Statistics(A).TryGet(s_llama, out var snapshot).Should().BeTrue();
        snapshot.LoadSeconds.Should().BeNull();
        snapshot.PromptTokensPerSecond.Should().BeNull();
        snapshot.EvalTokensPerSecond.Should().Be(40);
        snapshot.ServiceSeconds.Should().Be(0.3);
    }

    [Fact]
    public async Task OpenAiChat_Streamed_TimeToFirstTokenCounted_StoreLeftAlone()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);

        using (var response = await SendAsync("/v1/chat/completions", """{"model":"llama3.2","stream":true,"messages":[]}"""))
        {
            response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
            (await response.Content.ReadAsStringAsync()).Should().Contain("[DONE]");
        }

        var lines = await MetricsAfterAsync("POST /v1/chat/completions 200");

        lines.Should().Contain($"gollamas_time_to_first_token_seconds_count{{{Labels}}} 1");
        lines.Should().NotContain(l => l.StartsWith("gollamas_generations_total{", StringComparison.Ordinal), "the OpenAI layer's answers carry no timings");
        Statistics(A).Count.Should().Be(0);
    }

    [Fact]
    public async Task Reload_KeepingTheConnection_KeepsItsStatistics()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);
        var connection = Proxy.Server.Connections.Active.Single();
        using (var response = await SendAsync("/api/chat", """{"model":"llama3.2"}"""))
        {
            await response.Content.ReadAsStringAsync();
        }

        await Proxy.Logs.WaitForAsync(l => l.Contains("POST /api/chat 200", StringComparison.Ordinal)).DefaultTimeout();

        Proxy.Swap(proxies: [$"llama3.2={A.BaseUri}", $"qwen3:8b={A.BaseUri}"]);

        Proxy.Server.Connections.Active.Single().Should().BeSameAs(connection);
        connection.Statistics.TryGet(s_llama, out var snapshot).Should().BeTrue();
        snapshot.Generations.Should().Be(1);
        snapshot.ColdLoads.Should().Be(1, "the fake's final chunk reports a load of 0.53 s");
    }

    private static string Canonical(string model) =>
        ModelName.TryParse(model, out var name) ? name.Canonical : throw new ArgumentException(model, nameof(model));

    private static double Sum(string[] lines, string histogram)
    {
        var line = lines.Single(l => l.StartsWith(histogram + "_sum{", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    private static async Task ReadUntilAsync(Stream body, string expected)
    {
        var seen = new StringBuilder();
        var buffer = new byte[4096];
        while (!seen.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var read = await body.ReadAsync(buffer).AsTask().DefaultTimeout();
            read.Should().BePositive("the answer must hold {0}", expected);
            seen.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
    }

    private static async Task ReadToEndAsync(Stream body)
    {
        using var reader = new StreamReader(body);
        await reader.ReadToEndAsync().DefaultTimeout();
    }

    private ModelStatistics Statistics(FakeOllamaServer server) =>
        Proxy!.Server.Connections.Active.Single(c => c.BaseUri.Authority == server.BaseUri.Authority).Statistics;

    private async Task<HttpResponseMessage> SendAsync(string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json) };
        return await Proxy!.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
    }

    private async Task<string[]> MetricsAfterAsync(string accessLogLine)
    {
        await Proxy!.Logs.WaitForAsync(l => l.Contains(accessLogLine, StringComparison.Ordinal)).DefaultTimeout();
        return (await Proxy.Client.GetStringAsync("/metrics")).Split('\n');
    }
}
