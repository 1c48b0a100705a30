using Gollamas.Bench.Load;
using Gollamas.Simulator.Workload;

namespace Gollamas.Bench.Fleet;

/// <summary>
/// The fleet run behind <c>./build.sh bench fleet</c>: the same seeded workload through each
/// setup in front of a fresh simulated fleet, the setups interleaved within each seed (their
/// order turned by one per seed), then a table per seed and pooled, with ratios to nginx
/// round-robin, and the same as JSON.
/// </summary>
internal static class FleetBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = FleetOptions.Parse(args, Console.Error);
        if (options is null)
        {
            return 2;
        }

        // SIGINT/SIGTERM (build.sh's trap) cancel the run: every child is killed on the way out.
        using var stop = Signals.OnStop();

        var started = DateTime.UtcNow;
        Progress.Say($"fleet run: {options}");
        if (options.Nginx is null)
        {
            Progress.Say("nginx not found: the nginx setups are left out and no ratio to round-robin can be given");
        }

        var runs = new List<FleetReport.Entry>();
        try
        {
            for (var s = 0; s < options.Seeds.Count; s++)
            {
                var seed = options.Seeds[s];
                var order = options.Setups.Skip(s % options.Setups.Count).Concat(options.Setups.Take(s % options.Setups.Count));
                foreach (var setup in order)
                {
                    var workload = new WorkloadOptions
                    {
                        Seed = seed,
                        Users = options.Scenario.Users,
                        Duration = options.Scenario.Duration,
                        Models = options.Scenario.Models.Select(m => m.Name).ToArray(),
                    };
                    var run = await FleetRunner.RunAsync(options.Scenario, workload, options.Scale, fleet => setup.StartAsync(fleet, options, seed), stop.Token);
                    runs.Add(new FleetReport.Entry(seed, setup, run));
                    var m = run.Metrics;
                    Progress.Say($"seed {seed} {setup.Name}: {m.Requests} requests, TTFT p50 {m.TtftP50:0.00}s p95 {m.TtftP95:0.00}s, {m.Goodput:0} tokens/s, {m.Loads} loads, cache {m.CacheHitRatio:P0}, {m.Errors} errors");
                }
            }
        }
        catch (OperationCanceledException) when (stop.Token.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("fleet: stopped");
            return 130;
        }

        var report = new FleetReport(options, runs, started);
        Console.Out.Write(report.ToTable());
        var json = report.WriteJson(options.OutputDirectory);
        Progress.Say($"wrote {json} and latest.json");
        return runs.Any(r => r.Run.Metrics.Errors > 0 || r.Run.Metrics.Cut > 0) ? 1 : 0;
    }
}
