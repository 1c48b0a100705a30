using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>
/// Scenario 1: a short POST /api/embed at 32 connections, with wrk; the best round per target
/// counts, with its latencies. Also CPU time per request of the proxy and of the backend, which
/// tells a costly proxy from a starved one when load generator, proxy and backend share two cores.
/// </summary>
internal sealed class SmallRequestScenario(LoadOptions options, Wrk wrk)
{
    private const int Connections = 32;
    private const string Body = $$"""{"model":"{{ServerFleet.SmallModel}}","input":"Why is the sky blue?"}""";

    public async Task RunAsync(TargetSet targets, BenchReport report, CancellationToken cancellationToken)
    {
        var results = new Dictionary<string, (WrkResult Result, double? CpuMsPerThousand, double BackendMsPerThousand)>();
        var errors = new Dictionary<string, double>();
        for (var round = 1; round <= options.Rounds; round++)
        {
            foreach (var target in targets.InOrder())
            {
                var url = target.SmallUrl("/api/embed");
                await wrk.RunAsync(url, Body, Connections, options.Warmup, cancellationToken);
                CpuMeter? proxyCpu = target.Proxy is { } proxy ? CpuMeter.Start(proxy.Id) : null;
                var backendCpu = CpuMeter.Start(targets.SmallBackendPid);
                var result = await wrk.RunAsync(url, Body, Connections, options.Duration, cancellationToken);
                errors[target.Name] = errors.GetValueOrDefault(target.Name) + result.Errors;
                if (!results.TryGetValue(target.Name, out var best) || result.RequestsPerSecond > best.Result.RequestsPerSecond)
                {
                    results[target.Name] = (result, proxyCpu?.MillisecondsPerThousand(result.Requests), backendCpu.MillisecondsPerThousand(result.Requests));
                }

                Progress.Say(string.Create(CultureInfo.InvariantCulture, $"small POST c{Connections} {target.Name} round {round}: {result.RequestsPerSecond:0} req/s p50 {result.P50Ms:0.###} ms p99 {result.P99Ms:0.###} ms errors {result.Errors}"));
            }
        }

        double? Get(string name, Func<WrkResult, double> pick) => results.TryGetValue(name, out var r) ? pick(r.Result) : null;
        report.Add(new MetricRow("small_rps", "1 small POST c32: throughput", "req/s", Get("direct", static r => r.RequestsPerSecond), Get("nginx", static r => r.RequestsPerSecond), Get("gollamas", static r => r.RequestsPerSecond), Goal.AtLeastNginx));
        report.Add(new MetricRow("small_p50_ms", "1 small POST c32: p50 latency", "ms", Get("direct", static r => r.P50Ms), Get("nginx", static r => r.P50Ms), Get("gollamas", static r => r.P50Ms)));
        report.Add(new MetricRow("small_p99_ms", "1 small POST c32: p99 latency", "ms", Get("direct", static r => r.P99Ms), Get("nginx", static r => r.P99Ms), Get("gollamas", static r => r.P99Ms), Goal.AtMostNginx));
        report.Add(new MetricRow("small_errors", "1 small POST c32: errors", "count", Pick("direct", errors, static e => e), Pick("nginx", errors, static e => e), Pick("gollamas", errors, static e => e), Goal.Zero));
        report.Add(new MetricRow("small_proxy_cpu", "1 small POST c32: proxy CPU per 1k req", "ms", null, results.TryGetValue("nginx", out var n) ? n.CpuMsPerThousand : null, results[targets.Gollamas.Name].CpuMsPerThousand));
        report.Add(new MetricRow("small_backend_cpu", "1 small POST c32: backend CPU per 1k req", "ms", Pick("direct", results, static r => r.BackendMsPerThousand), Pick("nginx", results, static r => r.BackendMsPerThousand), Pick("gollamas", results, static r => r.BackendMsPerThousand)));
    }

    private static double? Pick<T>(string name, Dictionary<string, T> results, Func<T, double> pick) => results.TryGetValue(name, out var r) ? pick(r) : null;
}
