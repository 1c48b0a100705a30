using System.Globalization;
using System.Text.RegularExpressions;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Metrics;

/// <summary>
/// The whole of /metrics after traffic of every kind, read as Prometheus' text format (0.0.4)
/// says: each family described once and its samples together; names and labels well formed;
/// values numbers; histograms with cumulative buckets that end in +Inf at their count.
/// </summary>
public sealed partial class ExpositionFormatTests : TwoServersTest
{
    [Fact]
    public async Task Metrics_AfterEveryKindOfAnswer_ValidTextFormat()
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}", $"qwen3:8b={RawLoopbackServer.ClosedPortUri()}"]);
        (string Path, string Body)[] requests =
        [
            ("/api/chat", """{"model":"llama3.2"}"""),
            ("/api/generate", """{"model":"llama3.2","stream":false}"""),
            ("/v1/chat/completions", """{"model":"llama3.2","stream":true,"messages":[]}"""),
            ("/v1/chat/completions", """{"model":"llama3.2","messages":[]}"""),
            ("/api/chat", """{"model":"qwen3:8b"}"""),
            ("/api/chat", """{"model":"unknown"}"""),
        ];
        foreach (var (path, body) in requests)
        {
            using var response = await Proxy.Client.PostAsync(path, new StringContent(body));
            await response.Content.ReadAsStringAsync();
        }

        await Proxy.Logs.WaitForAsync(l => l.Contains("POST /api/chat 404", StringComparison.Ordinal)).DefaultTimeout();
        var text = await Proxy.Client.GetStringAsync("/metrics");

        text.Should().EndWith("\n");
        var problems = Check(text);
        problems.Should().BeEmpty();
        text.Should().Contain("# TYPE gollamas_time_to_first_token_seconds histogram").And.Contain("gollamas_load_duration_seconds_bucket{");
    }

    private static List<string> Check(string text)
    {
        var problems = new List<string>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var finished = new HashSet<string>(StringComparer.Ordinal);
        string? family = null;
        var buckets = new Dictionary<string, (double Last, bool Inf)>(StringComparer.Ordinal);
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length < 4 || !MetricName().IsMatch(parts[2]))
                {
                    problems.Add($"bad comment: {line}");
                    continue;
                }

                if (family != parts[2])
                {
                    if (family is not null)
                    {
                        finished.Add(family);
                    }

                    if (finished.Contains(parts[2]))
                    {
                        problems.Add($"family {parts[2]} is described twice");
                    }

                    family = parts[2];
                }

                if (parts[1] == "TYPE")
                {
                    if (parts[3] is not ("counter" or "gauge" or "histogram"))
                    {
                        problems.Add($"unknown type: {line}");
                    }

                    types[parts[2]] = parts[3];
                }

                continue;
            }

            var sample = Sample().Match(line);
            if (!sample.Success)
            {
                problems.Add($"not a sample: {line}");
                continue;
            }

            var name = sample.Groups["name"].Value;
            var labels = sample.Groups["labels"].Value;
            if (!double.TryParse(sample.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && sample.Groups["value"].Value is not ("+Inf" or "-Inf" or "NaN"))
            {
                problems.Add($"value is not a number: {line}");
            }

            var type = family is null ? null : types.GetValueOrDefault(family);
            var suffix = name == family ? "" : family is not null && name.StartsWith(family, StringComparison.Ordinal) ? name[family.Length..] : null;
            if (type is null || suffix is null || (type == "histogram" ? suffix is not ("_bucket" or "_sum" or "_count") : suffix != ""))
            {
                problems.Add($"sample outside its family ({family}): {line}");
                continue;
            }

            if (type == "counter" && value < 0)
            {
                problems.Add($"negative counter: {line}");
            }

            if (type != "histogram")
            {
                continue;
            }

            // A histogram's series: its labels but le.
            var series = family + "{" + LeLabel().Replace(labels, "") + "}";
            var state = buckets.GetValueOrDefault(series, (Last: 0d, Inf: false));
            if (suffix == "_bucket")
            {
                if (!labels.Contains("le=\"", StringComparison.Ordinal))
                {
                    problems.Add($"bucket without le: {line}");
                }

                if (value < state.Last)
                {
                    problems.Add($"buckets not cumulative: {line}");
                }

                buckets[series] = (value, labels.EndsWith("le=\"+Inf\"", StringComparison.Ordinal));
            }
            else if (suffix == "_count")
            {
                if (!state.Inf || state.Last != value)
                {
                    problems.Add($"count is not the +Inf bucket: {line}");
                }
            }
        }

        return problems;
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    // name, optional {label="value",...} with escaped values, one space, value.
    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)\})? (?<value>\S+)$""")]
    private static partial Regex Sample();

    [GeneratedRegex(""",?le="[^"]*"$""")]
    private static partial Regex LeLabel();
}
