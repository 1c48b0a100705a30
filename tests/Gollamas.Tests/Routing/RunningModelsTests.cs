using System.Net;
using Gollamas.Metrics;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Routing;

/// <summary>--allow-running: models loaded on a connection but not configured.</summary>
public sealed class RunningModelsTests : TwoServersTest
{
    protected override void Arrange()
    {
        A.Running = [new FakeModel("mistral:latest")];
        B.Running = [new FakeModel("phi4:14b")];
    }

    [Theory]
    [InlineData("mistral", "a")]
    [InlineData("Mistral:latest", "a")]
    [InlineData("phi4:14b", "b")]
    public async Task AllowRunning_RunningUnconfiguredModel_RoutedToTheConnectionRunningIt(string model, string server)
    {
        var proxy = await StartAsync(allowRunning: true);
        await proxy.ProbeRoundAsync();
        var body = $$"""{"model":"{{model}}","stream":false}""";

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var target = server == "a" ? A : B;
        (await target.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout()).BodyText.Should().Be(body);
        (server == "a" ? B : A).Requests.Should().NotContain(r => r.Path == "/api/chat");
    }

    [Fact]
    public async Task WithoutTheFlag_RunningUnconfiguredModel_Is404AsInGollamas()
    {
        var proxy = await StartAsync(allowRunning: false);
        await proxy.ProbeRoundAsync();

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"mistral"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'mistral' not found"}""");
        A.Requests.Should().NotContain(r => r.Path == "/api/chat");
    }

    [Fact]
    public async Task AllowRunning_ModelRunningNowhere_StillNotFound()
    {
        var proxy = await StartAsync(allowRunning: true);
        await proxy.ProbeRoundAsync();

        using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"gemma3"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AllowRunning_PsListsEveryRunningModelOnEveryConnection()
    {
        var proxy = await StartAsync(allowRunning: true);

        var ps = await proxy.Client.GetStringAsync("/api/ps");

        ps.Should().Contain("\"mistral:latest\"").And.Contain("\"phi4:14b\"");
    }

    [Fact]
    public async Task WithoutTheFlag_PsListsOnlyConfiguredModels()
    {
        A.Running = [new FakeModel("mistral:latest"), new FakeModel("llama3.2:latest")];
        var proxy = await StartAsync(allowRunning: false);

        var ps = await proxy.Client.GetStringAsync("/api/ps");

        ps.Should().Contain("\"llama3.2:latest\"").And.NotContain("mistral").And.NotContain("phi4");
        B.Requests.Should().NotContain(r => r.Path == "/api/ps", "b serves no configured model");
    }

    [Fact]
    public async Task AllowRunning_SpellingsOfOneRunningModel_ShareOneCanonicalMetricSeries()
    {
        var proxy = await StartAsync(allowRunning: true);
        await proxy.ProbeRoundAsync();
        string[] spellings = ["MISTRAL", "Mistral:LATEST", "registry.ollama.ai/library/mistral", "x://Registry.Ollama.AI/Library/Mistral:Latest", " mistral:local "];

        foreach (var spelling in spellings)
        {
            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent($$"""{"model":"{{spelling}}","stream":false}"""));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await WaitForAccessLinesAsync(proxy, spellings.Length);
        var lines = (await proxy.Client.GetStringAsync("/metrics")).Split('\n');

        lines.Where(l => l.StartsWith("gollamas_requests_total{endpoint=\"/api/chat\"", StringComparison.Ordinal)).Should().Equal(
            $"gollamas_requests_total{{endpoint=\"/api/chat\",model=\"mistral:latest\",connection=\"{A.BaseUri.Authority}\",code=\"200\"}} {spellings.Length}");
        lines.Where(l => l.StartsWith("gollamas_generated_tokens_total{", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().StartWith($"gollamas_generated_tokens_total{{model=\"mistral:latest\",connection=\"{A.BaseUri.Authority}\"}} ");
    }

    [Fact]
    public async Task AllowRunning_RunningModel_LatencyHistogramsUnderOtherOnly()
    {
        var proxy = await StartAsync(allowRunning: true);
        await proxy.ProbeRoundAsync();

        for (var i = 0; i < 2; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"mistral","stream":false}"""));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await WaitForAccessLinesAsync(proxy, 2);
        var lines = (await proxy.Client.GetStringAsync("/metrics")).Split('\n');

        // Histograms are many series each: by model, only configured and discovered names.
        var other = $"model=\"{ProxyMetrics.OtherRunningModels}\",connection=\"{A.BaseUri.Authority}\"";
        lines.Where(l => l.StartsWith("gollamas_model_request_duration_seconds_count{", StringComparison.Ordinal)).Should().Equal($"gollamas_model_request_duration_seconds_count{{{other}}} 2");
        lines.Where(l => l.StartsWith("gollamas_model_time_to_first_byte_seconds_count{", StringComparison.Ordinal)).Should().Equal($"gollamas_model_time_to_first_byte_seconds_count{{{other}}} 2");
        lines.Should().Contain(l => l.StartsWith("gollamas_requests_total{endpoint=\"/api/chat\",model=\"mistral:latest\"", StringComparison.Ordinal), "counters keep the running model's name, up to their bound");
    }

    [Fact]
    public async Task AllowRunning_FiveHundredRunningModels_AtMostTheBoundOfModelSeries()
    {
        const int Models = 500;
        A.Running = [.. Enumerable.Range(0, Models).Select(i => new FakeModel($"m{i}:latest"))];
        var proxy = await StartAsync(allowRunning: true);
        await proxy.ProbeRoundAsync();

        for (var i = 0; i < Models; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent($$"""{"model":"M{{i}}","stream":false}"""));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await WaitForAccessLinesAsync(proxy, Models);
        var lines = (await proxy.Client.GetStringAsync("/metrics")).Split('\n');

        var series = lines.Where(l => l.StartsWith("gollamas_requests_total{endpoint=\"/api/chat\"", StringComparison.Ordinal)).ToList();
        series.Should().HaveCount(ProxyMetrics.MaxRunningModelLabels + 1);
        series.Should().Contain($"gollamas_requests_total{{endpoint=\"/api/chat\",model=\"{ProxyMetrics.OtherRunningModels}\",connection=\"{A.BaseUri.Authority}\",code=\"200\"}} {Models - ProxyMetrics.MaxRunningModelLabels}");
        series.Where(l => !l.Contains(ProxyMetrics.OtherRunningModels, StringComparison.Ordinal)).Should().OnlyContain(l => l.EndsWith("\",code=\"200\"} 1", StringComparison.Ordinal))
            .And.OnlyContain(l => System.Text.RegularExpressions.Regex.IsMatch(l, "model=\"m\\d+:latest\""));
        lines.Count(l => l.StartsWith("gollamas_prompt_tokens_total{", StringComparison.Ordinal)).Should().Be(ProxyMetrics.MaxRunningModelLabels + 1);
    }

    private static async Task WaitForAccessLinesAsync(ProxyUnderTest proxy, int count)
    {
        var seen = 0;
        await proxy.Logs.WaitForAsync(l => l.StartsWith("Information: POST /api/chat 200 ", StringComparison.Ordinal) && ++seen == count).DefaultTimeout();
    }

    // a serves llama3.2; b is only declared as a connection, so only running-model routing uses it.
    private async Task<ProxyUnderTest> StartAsync(bool allowRunning)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            connections: [$"b={B.BaseUri}"],
            adjust: options => options with { AllowRunning = allowRunning });
        return Proxy;
    }
}
