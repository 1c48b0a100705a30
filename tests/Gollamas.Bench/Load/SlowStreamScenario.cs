using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>
/// Scenario 4: 1000 chat streams open at once, one line every 100 ms, through a proxy process
/// started for this scenario alone (so earlier load does not count): peak RSS of its process
/// tree, polled every 50 ms and checked against the kernel's own high-water marks, and every
/// stream that did not deliver all its lines as an error.
/// </summary>
internal sealed class SlowStreamScenario(LoadOptions options)
{
    // Connections opened at a time: a burst of 1000 SYNs would overflow Gollamas' listen
    // backlog (Kestrel's default, 512) and measure the kernel's SYN retry instead.
    private const int ConnectsInFlight = 50;

    public async Task RunAsync(ServerFleet fleet, bool withNginx, BenchReport report, CancellationToken cancellationToken)
    {
        var runs = new Dictionary<string, (int Errors, double? PeakMiB)>();
        var direct = await RunOneAsync(fleet.Direct, report, cancellationToken);
        runs["direct"] = (direct.Errors, null);
        if (withNginx)
        {
            var nginx = await fleet.StartNginxAsync();
            runs["nginx"] = await RunOneAsync(nginx, report, cancellationToken);
            fleet.Stop(nginx.Proxy!);
        }

        var gollamas = await fleet.StartGollamasAsync();
        runs["gollamas"] = await RunOneAsync(gollamas, report, cancellationToken);
        fleet.Stop(gollamas.Proxy!);

        double? Errors(string name) => runs.TryGetValue(name, out var r) ? r.Errors : null;
        double? Peak(string name) => runs.TryGetValue(name, out var r) ? r.PeakMiB : null;
        var label = string.Create(CultureInfo.InvariantCulture, $"4 {options.SlowStreams} slow streams");
        report.Add(new MetricRow("slow_errors", $"{label}: errors", "count", Errors("direct"), Errors("nginx"), Errors("gollamas"), Goal.Zero));
        report.Add(new MetricRow("slow_peak_rss_mib", $"{label}: proxy peak RSS", "MiB", null, Peak("nginx"), Peak("gollamas"), Goal.Below(64)));
    }

    private async Task<(int Errors, double? PeakMiB)> RunOneAsync(Target target, BenchReport report, CancellationToken cancellationToken)
    {
        var shape = new StreamShape(options.SlowStreamChunks, 100);
        var request = RawHttpStream.JsonPost("/api/chat", shape.ToRequestBody(ServerFleet.SlowModel));
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var peakBytes = 0L;
        var poller = target.Proxy is { } proxy ? PollRssAsync(proxy.Id, b => peakBytes = Math.Max(peakBytes, b), done.Token) : Task.CompletedTask;

        var open = 0;
        var peakOpen = 0;
        var errors = new List<string>();
        using var connects = new SemaphoreSlim(ConnectsInFlight);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMilliseconds((shape.Chunks * shape.DelayMs) + 60_000));

        async Task OneAsync()
        {
            string? error;
            RawHttpStream? connection = null;
            await connects.WaitAsync(deadline.Token);
            try
            {
                connection = await RawHttpStream.ConnectAsync(target.Stream, deadline.Token);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException)
            {
                lock (errors)
                {
                    errors.Add($"connect: {ex.Message}");
                }

                return;
            }
            finally
            {
                connects.Release();
            }

            using (connection)
            {
                var now = Interlocked.Increment(ref open);
                InterlockedMax(ref peakOpen, now);
                try
                {
                    var result = await connection.ExchangeAsync(request, deadline.Token);
                    error = result.Error ?? (result.Lines == shape.Chunks ? null : $"{result.Lines} of {shape.Chunks} lines");
                }
                catch (OperationCanceledException)
                {
                    error = "timed out";
                }
                finally
                {
                    Interlocked.Decrement(ref open);
                }
            }

            if (error is not null)
            {
                lock (errors)
                {
                    errors.Add(error);
                }
            }
        }

        var started = DateTime.UtcNow;
        await Task.WhenAll(Enumerable.Range(0, options.SlowStreams).Select(_ => OneAsync()));
        var elapsed = DateTime.UtcNow - started;
        await done.CancelAsync();
        await poller;

        // A stopped run cancels every stream: that is not 1000 errors of the proxy.
        cancellationToken.ThrowIfCancellationRequested();

        double? peakMiB = null;
        if (target.Proxy is { } measured)
        {
            // The poll can miss a spike between two samples; the kernel's per-process peaks cannot.
            peakBytes = Math.Max(peakBytes, ProcFs.TreePeakRssBytes(measured.Id));
            peakMiB = peakBytes / 1048576.0;
        }

        Progress.Say(string.Create(CultureInfo.InvariantCulture, $"slow streams {target.Name}: {options.SlowStreams - errors.Count} ok, {errors.Count} errors, {peakOpen} open at once, {elapsed.TotalSeconds:0.0} s, peak RSS {peakMiB:0.0} MiB"));
        if (errors.Count > 0)
        {
            report.Note($"slow streams through {target.Name}: {errors.Count} errors, first: {string.Join("; ", errors.Distinct().Take(3))}");
        }

        if (peakOpen < options.SlowStreams)
        {
            report.Note($"slow streams through {target.Name}: only {peakOpen} of {options.SlowStreams} were open at once");
        }

        return (errors.Count, peakMiB);
    }

    private static async Task PollRssAsync(int pid, Action<long> sample, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            do
            {
                sample(ProcFs.TreeRssBytes(pid));
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // The streams are done.
        }
    }

    private static void InterlockedMax(ref int location, int value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
