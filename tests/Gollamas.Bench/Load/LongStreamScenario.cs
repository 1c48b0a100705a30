using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>
/// Scenario 2: back-to-back 501-line chat streams with no delay, on 1 and on 4 connections,
/// with wrk: chunks per second (responses per second × lines per response) and MB/s read; the
/// best round per target counts.
/// </summary>
internal sealed class LongStreamScenario(LoadOptions options, Wrk wrk)
{
    private static readonly StreamShape s_shape = StreamShape.Default;

    public async Task RunAsync(TargetSet targets, BenchReport report, CancellationToken cancellationToken)
    {
        var body = s_shape.ToRequestBody(ServerFleet.StreamModel);
        foreach (var connections in new[] { 1, 4 })
        {
            var results = new Dictionary<string, WrkResult>();
            var proxyCpu = new Dictionary<string, double>();
            var backendCpu = new Dictionary<string, double>();
            var errors = new Dictionary<string, double>();
            for (var round = 1; round <= options.Rounds; round++)
            {
                foreach (var target in targets.InOrder())
                {
                    var url = target.StreamUrl("/api/chat");
                    await wrk.RunAsync(url, body, connections, options.Warmup, cancellationToken);
                    CpuMeter? proxyMeter = target.Proxy is { } proxy ? CpuMeter.Start(proxy.Id) : null;
                    var backendMeter = CpuMeter.Start(targets.StreamBackendPid);
                    var result = await wrk.RunAsync(url, body, connections, options.Duration, cancellationToken);
                    errors[target.Name] = errors.GetValueOrDefault(target.Name) + result.Errors;
                    Progress.Say(string.Create(CultureInfo.InvariantCulture, $"stream c{connections} {target.Name} round {round}: {result.RequestsPerSecond * s_shape.Chunks:0} chunks/s {result.MegabytesPerSecond:0.0} MB/s errors {result.Errors}"));
                    if (results.TryGetValue(target.Name, out var best) && best.RequestsPerSecond >= result.RequestsPerSecond)
                    {
                        continue;
                    }

                    results[target.Name] = result;
                    var chunks = result.Requests * (double)s_shape.Chunks;
                    backendCpu[target.Name] = backendMeter.MillisecondsPerThousand(chunks);
                    if (proxyMeter is { } meter)
                    {
                        proxyCpu[target.Name] = meter.MillisecondsPerThousand(chunks);
                    }
                }
            }

            double? Get(string name, Func<WrkResult, double> pick) => results.TryGetValue(name, out var r) ? pick(r) : null;
            double Chunks(WrkResult r) => r.RequestsPerSecond * s_shape.Chunks;
            var label = string.Create(CultureInfo.InvariantCulture, $"2 {s_shape.Chunks}-line stream c{connections}");
            report.Add(new MetricRow($"stream_c{connections}_chunks", $"{label}: chunks", "chunks/s", Get("direct", Chunks), Get("nginx", Chunks), Get("gollamas", Chunks), Goal.AtLeastNginx));
            report.Add(new MetricRow($"stream_c{connections}_mbps", $"{label}: bytes", "MB/s", Get("direct", static r => r.MegabytesPerSecond), Get("nginx", static r => r.MegabytesPerSecond), Get("gollamas", static r => r.MegabytesPerSecond)));
            if (results.Values.Any(r => r.RequestsPerSecond > results["direct"].RequestsPerSecond))
            {
                report.Note(string.Create(CultureInfo.InvariantCulture, $"stream c{connections}: a proxy beat direct; direct, wrk reads the backend's one-segment-per-line output one line at a time, while a proxy's reads gather lines into fewer, larger writes"));
            }

            double? From(Dictionary<string, double> cpu, string name) => cpu.TryGetValue(name, out var v) ? v : null;
            report.Add(new MetricRow($"stream_c{connections}_proxy_cpu", $"{label}: proxy CPU per 1k chunks", "ms", null, From(proxyCpu, "nginx"), From(proxyCpu, "gollamas")));
            report.Add(new MetricRow($"stream_c{connections}_backend_cpu", $"{label}: backend CPU per 1k chunks", "ms", From(backendCpu, "direct"), From(backendCpu, "nginx"), From(backendCpu, "gollamas")));
            report.Add(new MetricRow($"stream_c{connections}_errors", $"{label}: errors", "count", From(errors, "direct"), From(errors, "nginx"), From(errors, "gollamas"), Goal.Zero));
        }
    }
}
