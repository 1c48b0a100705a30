using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>
/// Scenario 3: time from the request's last byte to the first body byte of a chat stream,
/// 64 streams one after another on a kept-alive connection (after unmeasured warm-up ones),
/// so the figure is the proxy's own delay, not queueing. Reported absolute and added over direct.
/// </summary>
internal static class FirstChunkScenario
{
    private const int Streams = 64;
    private const int WarmupStreams = 32;

    // Short streams: the first line is what is timed; the rest only has to be read off.
    private static readonly byte[] s_request = RawHttpStream.JsonPost("/api/chat", new StreamShape(8, 0).ToRequestBody(ServerFleet.StreamModel));

    public static async Task RunAsync(TargetSet targets, BenchReport report, CancellationToken cancellationToken)
    {
        var p50 = new Dictionary<string, double>();
        var p99 = new Dictionary<string, double>();
        foreach (var target in targets.InOrder())
        {
            var samples = await MeasureAsync(target, cancellationToken);
            p50[target.Name] = Percentiles.Of(samples, 50);
            p99[target.Name] = Percentiles.Of(samples, 99);
            Progress.Say(string.Create(CultureInfo.InvariantCulture, $"first chunk {target.Name}: p50 {p50[target.Name]:0.###} ms p99 {p99[target.Name]:0.###} ms"));
        }

        double? Get(Dictionary<string, double> from, string name) => from.TryGetValue(name, out var v) ? v : null;
        double? Added(Dictionary<string, double> from, string name) => from.TryGetValue(name, out var v) ? v - from["direct"] : null;
        report.Add(new MetricRow("ttfc_p50_ms", "3 first chunk (64 streams): p50", "ms", Get(p50, "direct"), Get(p50, "nginx"), Get(p50, "gollamas")));
        report.Add(new MetricRow("ttfc_p99_ms", "3 first chunk (64 streams): p99", "ms", Get(p99, "direct"), Get(p99, "nginx"), Get(p99, "gollamas")));
        report.Add(new MetricRow("ttfc_added_p50_ms", "3 first chunk: p50 added over direct", "ms", null, Added(p50, "nginx"), Added(p50, "gollamas"), Goal.Below(0.5)));
        report.Add(new MetricRow("ttfc_added_p99_ms", "3 first chunk: p99 added over direct", "ms", null, Added(p99, "nginx"), Added(p99, "gollamas")));
    }

    private static async Task<List<double>> MeasureAsync(Target target, CancellationToken cancellationToken)
    {
        using var connection = await RawHttpStream.ConnectAsync(target.Stream, cancellationToken);
        var samples = new List<double>(Streams);
        for (var i = 0; i < WarmupStreams + Streams; i++)
        {
            var result = await connection.ExchangeAsync(s_request, cancellationToken);
            if (result.Error is not null)
            {
                throw new InvalidOperationException($"first-chunk stream through {target.Name} failed: {result.Error}");
            }

            if (i >= WarmupStreams)
            {
                samples.Add(result.FirstBodyByte.TotalMilliseconds);
            }
        }

        return samples;
    }
}
