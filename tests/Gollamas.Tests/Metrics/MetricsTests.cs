using System.Net;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Metrics;

/// <summary>/metrics after known traffic: counts, tokens from the final chunk, errors, gauges.</summary>
public sealed class MetricsTests : TwoServersTest
{
    [Fact]
    public async Task KnownTraffic_CountedByEndpointModelConnectionAndStatus_TokensFromTheFinalChunk()
    {
        var dead = RawLoopbackServer.ClosedPortUri();
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}", $"qwen3:8b={dead}"],
            aliases: ["gpt-4o=llama3.2"]);
        var a = A.BaseUri.Authority;

        for (var i = 0; i < 2; i++)
        {
            using var streamed = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"gpt-4o"}"""));
            (await streamed.Content.ReadAsStringAsync()).Should().Contain("\"done\":true");
        }

        using (var whole = await Proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}""")))
        {
            whole.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using (var unknown = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"mistral"}""")))
        {
            unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        }

        using (var down = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"qwen3:8b"}""")))
        {
            down.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        }

        await Proxy.Logs.WaitForAsync(l => l.Contains("POST /api/chat 502", StringComparison.Ordinal)).DefaultTimeout();
        using var response = await Proxy.Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        response.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
        var lines = text.Split('\n');
        lines.Should().Contain($"gollamas_requests_total{{endpoint=\"/api/chat\",model=\"llama3.2\",connection=\"{a}\",code=\"200\"}} 2");
        lines.Should().Contain($"gollamas_requests_total{{endpoint=\"/api/generate\",model=\"llama3.2\",connection=\"{a}\",code=\"200\"}} 1");
        lines.Should().Contain("gollamas_requests_total{endpoint=\"/api/chat\",model=\"\",connection=\"\",code=\"404\"} 1");
        lines.Should().Contain($"gollamas_requests_total{{endpoint=\"/api/chat\",model=\"qwen3:8b\",connection=\"{dead.Authority}\",code=\"502\"}} 1");
        lines.Should().Contain($"gollamas_prompt_tokens_total{{model=\"llama3.2\",connection=\"{a}\"}} 78");
        lines.Should().Contain($"gollamas_generated_tokens_total{{model=\"llama3.2\",connection=\"{a}\"}} 9");
        lines.Should().Contain($"gollamas_upstream_errors_total{{connection=\"{dead.Authority}\",kind=\"unreachable\"}} 1");
        lines.Should().Contain("gollamas_request_duration_seconds_count{endpoint=\"/api/chat\"} 4");
        lines.Should().Contain("gollamas_time_to_first_byte_seconds_bucket{endpoint=\"/api/chat\",le=\"+Inf\"} 4");
        lines.Should().Contain($"gollamas_connection_up{{connection=\"{a}\"}} 1");
        lines.Should().Contain($"gollamas_in_flight_requests{{connection=\"{a}\"}} 0");
        lines.Should().Contain($"gollamas_queued_requests{{connection=\"{a}\"}} 0");
    }

    [Fact]
    public async Task MetricsOff_NoEndpoint()
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            adjust: options => options with { Metrics = new MetricsOptions { Enabled = false } });

        using var response = await Proxy.Client.GetAsync("/metrics");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SeparateMetricsAddress_ServesOnlyMetricsWithoutAKey_AndTheMainAddressNoMetrics()
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            adjust: options => options with
            {
                Metrics = new MetricsOptions { Listen = new ListenAddress("127.0.0.1", 0) },
                Security = new SecurityOptions { ApiKeys = ["sk-one"] },
            });
        Proxy.Server.Addresses.Should().HaveCount(2);
        using var scraper = new HttpClient { BaseAddress = Proxy.Server.Addresses[1], Timeout = TestTimeouts.Default };

        using var scraped = await scraper.GetAsync("/metrics");
        using var other = await scraper.GetAsync("/api/tags");
        using var main = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        main.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-one");
        using var onMain = await Proxy.Client.SendAsync(main);

        scraped.StatusCode.Should().Be(HttpStatusCode.OK);
        (await scraped.Content.ReadAsStringAsync()).Should().Contain("# TYPE gollamas_requests_total counter");
        other.StatusCode.Should().Be(HttpStatusCode.NotFound);
        onMain.StatusCode.Should().Be(HttpStatusCode.NotFound);
        A.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task OpenAiUsage_CountedAsTokens()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);

        using (var completion = await Proxy.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"llama3.2","messages":[]}""")))
        {
            (await completion.Content.ReadAsStringAsync()).Should().Contain("\"usage\"");
        }

        await Proxy.Logs.WaitForAsync(l => l.Contains("POST /v1/chat/completions 200", StringComparison.Ordinal)).DefaultTimeout();
        var text = await Proxy.Client.GetStringAsync("/metrics");

        text.Should().MatchRegex($@"gollamas_generated_tokens_total\{{model=""llama3\.2"",connection=""{System.Text.RegularExpressions.Regex.Escape(A.BaseUri.Authority)}""\}} [1-9]\d*\n");
    }

    [Fact]
    public async Task AnthropicAndResponsesUsage_CountedAsTokens_TheLastCountsOfAStreamWinning()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}", $"qwen3:8b={B.BaseUri}"]);
        var stream = new StreamScript("text/event-stream");
        stream.Add("""event: message_start""" + "\ndata: " + """{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":12,"output_tokens":1}}}""" + "\n\n");
        stream.Add("""event: content_block_delta""" + "\ndata: " + """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}""" + "\n\n");
        stream.Add("""event: message_delta""" + "\ndata: " + """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":12,"output_tokens":7}}""" + "\n\n");
        stream.Add("""event: message_stop""" + "\ndata: " + """{"type":"message_stop"}""" + "\n\n");
        A.MapScript("POST", "/v1/messages", stream);
        var whole = new StreamScript("application/json");
        whole.Add("""{"id":"resp_1","object":"response","status":"completed","usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":8}}""");
        B.MapScript("POST", "/v1/responses", whole);

        using (var messages = await Proxy.Client.PostAsync("/v1/messages", new StringContent("""{"model":"llama3.2","max_tokens":64,"stream":true}""")))
        {
            (await messages.Content.ReadAsStringAsync()).Should().EndWith("message_stop\"}\n\n");
        }

        using (var responses = await Proxy.Client.PostAsync("/v1/responses", new StringContent("""{"model":"qwen3:8b","input":"hi"}""")))
        {
            (await responses.Content.ReadAsStringAsync()).Should().Contain("\"usage\"");
        }

        await Proxy.Logs.WaitForAsync(l => l.Contains("POST /v1/responses 200", StringComparison.Ordinal)).DefaultTimeout();
        var lines = (await Proxy.Client.GetStringAsync("/metrics")).Split('\n');

        lines.Should().Contain($"gollamas_prompt_tokens_total{{model=\"llama3.2\",connection=\"{A.BaseUri.Authority}\"}} 12");
        lines.Should().Contain($"gollamas_generated_tokens_total{{model=\"llama3.2\",connection=\"{A.BaseUri.Authority}\"}} 7");
        lines.Should().Contain($"gollamas_prompt_tokens_total{{model=\"qwen3:8b\",connection=\"{B.BaseUri.Authority}\"}} 5");
        lines.Should().Contain($"gollamas_generated_tokens_total{{model=\"qwen3:8b\",connection=\"{B.BaseUri.Authority}\"}} 3");
    }
}
