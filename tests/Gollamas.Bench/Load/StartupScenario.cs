using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>
/// Scenario 5: time from spawning the proxy to its first answered <c>GET /</c> (best and
/// median of 5 starts), resident memory 1 s after a start with no traffic, and binary size.
/// </summary>
internal sealed class StartupScenario(LoadOptions options)
{
    private const int Starts = 5;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public async Task RunAsync(ServerFleet fleet, bool withNginx, BenchReport report, CancellationToken cancellationToken)
    {
        var gollamas = await MeasureAsync(fleet.SpawnGollamas, fleet, cancellationToken);
        (double Best, double Median, double IdleMiB)? nginx = withNginx ? await MeasureAsync(fleet.SpawnNginx, fleet, cancellationToken) : null;

        report.Add(new MetricRow("idle_rss_mib", "5 idle RSS 1 s after start", "MiB", null, nginx?.IdleMiB, gollamas.IdleMiB, Goal.Below(25)));
        report.Add(new MetricRow("start_best_ms", "5 start to first answer: best of 5", "ms", null, nginx?.Best, gollamas.Best, Goal.Below(50)));
        report.Add(new MetricRow("start_median_ms", "5 start to first answer: median of 5", "ms", null, nginx?.Median, gollamas.Median));
        double? nginxSize = options.Nginx is { } path ? new FileInfo(path).Length / 1e6 : null;
        report.Add(new MetricRow("binary_mb", "5 binary size", "MB", null, nginxSize, new FileInfo(options.ProxyBinary).Length / 1e6, Goal.Below(15)));
        if (nginxSize is not null)
        {
            report.Note("nginx binary size is its executable alone; it also loads shared libraries (PCRE, zlib, OpenSSL) that Gollamas links in or does without");
        }
    }

    private static async Task<(double Best, double Median, double IdleMiB)> MeasureAsync(Func<ChildProcess> spawn, ServerFleet fleet, CancellationToken cancellationToken)
    {
        var times = new List<double>();
        var idleMiB = double.NaN;
        for (var i = 0; i < Starts; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var child = spawn();
            try
            {
                times.Add((await child.WaitUntilAnsweringAsync(s_timeout)).TotalMilliseconds);
                if (i == 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                    idleMiB = ProcFs.TreeRssBytes(child.Id) / 1048576.0;
                }
            }
            finally
            {
                fleet.Stop(child);
            }
        }

        var result = (times.Min(), Percentiles.Of(times, 50), idleMiB);
        Progress.Say(string.Create(CultureInfo.InvariantCulture, $"start {times.Count}x: best {result.Item1:0.0} ms median {result.Item2:0.0} ms idle RSS {idleMiB:0.0} MiB"));
        return result;
    }
}
