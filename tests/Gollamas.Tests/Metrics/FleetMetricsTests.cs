using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Metrics;

/// <summary>
/// What a dashboard reads from /metrics: exact status codes (a broken stream as the error it
/// became), latency by model and connection, failovers, connections' transitions, the build and
/// the process; and the shipped Grafana dashboard, whose every metric /metrics declares.
/// </summary>
public sealed partial class FleetMetricsTests : TwoServersTest
{
    [Fact]
    public async Task StreamBrokenAfterItsFirstByte_CountedAs502NotAs200()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"role":"assistant","content":"Hel"},"done":false}"""));
        script.AbortAfter(0, out var cut);
        A.MapScript("POST", "/api/chat", script);
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2"}""") })
        using (var response = await Proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"Hel\"");
            cut.Open();
            (await reader.ReadToEndAsync().DefaultTimeout()).Should().StartWith("{\"error\":");
        }

        var lines = await ScrapeAfterAsync("POST /api/chat 200");

        lines.Should().Contain($"gollamas_requests_total{{endpoint=\"/api/chat\",model=\"llama3.2\",connection=\"{A.BaseUri.Authority}\",code=\"502\"}} 1");
        lines.Should().NotContain(l => l.StartsWith("gollamas_requests_total{", StringComparison.Ordinal) && l.Contains("code=\"200\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LatencyHistograms_ByModelAndConnection_OnlyForModelAddressedRequests()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}", $"qwen3:8b={B.BaseUri}"]);

        for (var i = 0; i < 2; i++)
        {
            using var chat = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));
            await chat.Content.ReadAsStringAsync();
        }

        using (var generate = await Proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"qwen3:8b","stream":false}""")))
        {
            await generate.Content.ReadAsStringAsync();
        }

        using (var unknown = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"mistral"}""")))
        {
            unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        }

        var lines = await ScrapeAfterAsync("POST /api/chat 404");

        var a = $"model=\"llama3.2\",connection=\"{A.BaseUri.Authority}\"";
        var b = $"model=\"qwen3:8b\",connection=\"{B.BaseUri.Authority}\"";
        lines.Should().Contain($"gollamas_model_time_to_first_byte_seconds_count{{{a}}} 2");
        lines.Should().Contain($"gollamas_model_time_to_first_byte_seconds_bucket{{{a},le=\"+Inf\"}} 2");
        lines.Should().Contain($"gollamas_model_request_duration_seconds_count{{{a}}} 2");
        lines.Should().Contain($"gollamas_model_time_to_first_byte_seconds_count{{{b}}} 1");
        lines.Should().Contain($"gollamas_model_request_duration_seconds_count{{{b}}} 1");
        lines.Where(l => l.StartsWith("gollamas_model_request_duration_seconds_count{", StringComparison.Ordinal)).Should().HaveCount(2, "the unknown model has no series");
    }

    [Fact]
    public async Task Failover_CountedByModelAndTheConnectionItLeft()
    {
        var dead = RawLoopbackServer.ClosedPortUri();
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={dead}", $"llama3.2={A.BaseUri}"]);

        for (var i = 0; i < 4; i++)
        {
            using var response = await Proxy.Client.PostAsync("/api/show", new StringContent("""{"model":"llama3.2"}"""));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var lines = await ScrapeAfterAsync("POST /api/show 200");

        var failovers = Proxy.Logs.Lines.Count(l => l.Contains("trying the next route", StringComparison.Ordinal));
        failovers.Should().BePositive("equal routes take turns, so the dead one is tried");
        lines.Should().Contain($"gollamas_failovers_total{{model=\"llama3.2\",from=\"{dead.Authority}\"}} {failovers}");
        lines.Should().NotContain(l => l.StartsWith("gollamas_failovers_total{", StringComparison.Ordinal) && l.Contains(A.BaseUri.Authority, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectionMarkedDownThenBackUp_EachTransitionCounted()
    {
        var versionFails = true;
        A.Map("GET", "/api/version", (context, _) =>
        {
            context.Response.StatusCode = versionFails ? 500 : 200;
            return context.Response.WriteAsync(versionFails ? """{"error":"broken"}""" : """{"version":"0.9.6"}""");
        });
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}", $"llama3.2={B.BaseUri}"]);

        for (var i = 0; i < 3; i++)
        {
            await Proxy.ProbeRoundAsync();
        }

        var down = Lines(await Proxy.Client.GetStringAsync("/metrics"));
        versionFails = false;
        await Proxy.ProbeRoundAsync();
        var up = Lines(await Proxy.Client.GetStringAsync("/metrics"));

        var a = A.BaseUri.Authority;
        var b = B.BaseUri.Authority;
        down.Should().Contain($"gollamas_connection_transitions_total{{connection=\"{a}\",to=\"down\"}} 1");
        down.Should().Contain($"gollamas_connection_transitions_total{{connection=\"{a}\",to=\"up\"}} 0");
        down.Should().Contain($"gollamas_connection_up{{connection=\"{a}\"}} 0");
        up.Should().Contain($"gollamas_connection_transitions_total{{connection=\"{a}\",to=\"down\"}} 1");
        up.Should().Contain($"gollamas_connection_transitions_total{{connection=\"{a}\",to=\"up\"}} 1");
        up.Should().Contain($"gollamas_connection_transitions_total{{connection=\"{b}\",to=\"down\"}} 0");
        up.Should().Contain($"gollamas_connection_transitions_total{{connection=\"{b}\",to=\"up\"}} 0");
    }

    [Fact]
    public async Task BuildAndProcess_ReadAtScrapeTime()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);

        var text = await Proxy.Client.GetStringAsync("/metrics");

        text.Should().MatchRegex(@"\ngollamas_build_info\{version=""[^""\\]+"",commit=""[^""\\]+""\} 1\n");
        var values = Unlabelled(text);
        values["process_resident_memory_bytes"].Should().BeGreaterThan(1 << 20);
        values["process_virtual_memory_bytes"].Should().BeGreaterThanOrEqualTo(values["process_resident_memory_bytes"]);
        values["process_cpu_seconds_total"].Should().BePositive();
        values["process_open_fds"].Should().BePositive().And.BeLessThanOrEqualTo(values["process_max_fds"]);
        var started = DateTimeOffset.FromUnixTimeMilliseconds((long)(values["process_start_time_seconds"] * 1000));
        started.Should().BeCloseTo(System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime(), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task GrafanaDashboard_EveryMetricItQueries_IsInTheMetrics()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}"]);
        using (var chat = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}""")))
        {
            await chat.Content.ReadAsStringAsync();
        }

        var lines = await ScrapeAfterAsync("POST /api/chat 200");
        var queries = DashboardQueries(Path.Combine(AppContext.BaseDirectory, "Deploy", "grafana", "gollamas.json"));

        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Where(static l => l.StartsWith("# TYPE ", StringComparison.Ordinal)))
        {
            var parts = line.Split(' ');
            types[parts[2]] = parts[3];
        }

        var names = queries.SelectMany(static q => MetricNames().Matches(q).Select(static m => m.Value)).Distinct().Order(StringComparer.Ordinal).ToList();
        names.Should().Contain(["gollamas_requests_total", "gollamas_model_time_to_first_byte_seconds_bucket", "gollamas_queue_wait_seconds_bucket", "process_resident_memory_bytes"], "the dashboard shows requests, latency, queues and the process");
        var missing = names.Where(name => !IsExposed(name, types)).ToList();
        missing.Should().BeEmpty("every metric the dashboard queries is one /metrics describes");
    }

    // A histogram is queried by its _bucket, _sum or _count series; the rest by their own name.
    private static bool IsExposed(string name, Dictionary<string, string> types)
    {
        if (types.TryGetValue(name, out var type))
        {
            return type != "histogram";
        }

        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal) && types.GetValueOrDefault(name[..^suffix.Length]) == "histogram")
            {
                return true;
            }
        }

        return false;
    }

    // Every "expr" of the panels and every variable's query.
    private static List<string> DashboardQueries(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var queries = new List<string>();
        void Walk(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        if (property.Name is "expr" or "query" or "definition" && property.Value.ValueKind == JsonValueKind.String)
                        {
                            queries.Add(property.Value.GetString()!);
                        }

                        Walk(property.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item);
                    }

                    break;
            }
        }

        Walk(document.RootElement);
        return queries;
    }

    private async Task<string[]> ScrapeAfterAsync(string accessLine)
    {
        // The request is counted as it ends on the server, just before its access-log line.
        await Proxy!.Logs.WaitForAsync(l => l.Contains(accessLine, StringComparison.Ordinal)).DefaultTimeout();
        return Lines(await Proxy.Client.GetStringAsync("/metrics"));
    }

    private static string[] Lines(string text) => text.Split('\n');

    private static Dictionary<string, double> Unlabelled(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in Lines(text))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && !line.StartsWith('#') && !parts[0].Contains('{', StringComparison.Ordinal))
            {
                values[parts[0]] = double.Parse(parts[1], CultureInfo.InvariantCulture);
            }
        }

        return values;
    }

    [GeneratedRegex(@"\b(?:gollamas|process)_[a-z0-9_]+")]
    private static partial Regex MetricNames();
}
