
namespace Gollamas.Bench.Load;

/// <summary>
/// The load run behind <c>./build.sh bench</c>: the fake backends, nginx and Gollamas on one
/// machine, the same load against each in turn (direct, nginx, Gollamas), one table of
/// absolute figures, ratios and the targets, and the same as JSON.
/// </summary>
internal static class LoadRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = LoadOptions.Parse(args, Console.Error);
        if (options is null)
        {
            return 2;
        }

        // SIGINT/SIGTERM (build.sh's trap) cancel the run: every child is killed on the way out.
        using var stop = Signals.OnStop();

        var started = DateTime.UtcNow;
        var machine = MachineFacts.Collect(options);
        var report = new BenchReport(machine, options, started);
        using var fleet = new ServerFleet(options);
        try
        {
            await RunScenariosAsync(options, fleet, report, stop.Token);
        }
        catch (OperationCanceledException) when (stop.Token.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("load: stopped");
            return 130;
        }

        Console.Out.Write(report.ToTable());
        var json = report.WriteJson(options.OutputDirectory);
        Progress.Say($"wrote {json} and latest.json");
        return 0;
    }

    private static async Task RunScenariosAsync(LoadOptions options, ServerFleet fleet, BenchReport report, CancellationToken cancellationToken)
    {
        Progress.Say($"load run: {options}");
        await fleet.StartBackendsAsync();
        Target? nginx = null;
        if (options.Nginx is null)
        {
            report.Note("nginx not found: its column is empty and targets relative to it cannot be judged");
        }
        else
        {
            try
            {
                nginx = await fleet.StartNginxAsync();
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                report.Note($"nginx did not start, left out: {ex.Message}");
            }
        }

        var gollamas = await fleet.StartGollamasAsync();
        var targets = new TargetSet(fleet.Direct, nginx, gollamas, fleet.SmallBackendPid, fleet.StreamBackendPid);

        var wantsWrk = options.Runs(1) || options.Runs(2);
        if (wantsWrk && options.Wrk is null)
        {
            report.Note("wrk not found: scenarios 1 and 2 (small requests, long stream) were skipped");
        }
        else if (wantsWrk && options.Wrk is not null)
        {
            var wrk = new Wrk(options.Wrk, Path.Combine(options.AssetsDirectory, "post.lua"));
            if (options.Runs(1))
            {
                Progress.Say("scenario 1: small POST");
                await new SmallRequestScenario(options, wrk).RunAsync(targets, report, cancellationToken);
            }

            if (options.Runs(2))
            {
                Progress.Say("scenario 2: long stream");
                await new LongStreamScenario(options, wrk).RunAsync(targets, report, cancellationToken);
            }
        }

        if (options.Runs(3))
        {
            Progress.Say("scenario 3: time to first chunk");
            await FirstChunkScenario.RunAsync(targets, report, cancellationToken);
        }

        // Fresh proxies for the memory scenarios: earlier load must not count.
        if (nginx is not null)
        {
            fleet.Stop(nginx.Proxy!);
        }

        fleet.Stop(gollamas.Proxy!);
        if (options.Runs(4))
        {
            Progress.Say("scenario 4: slow streams");
            await new SlowStreamScenario(options).RunAsync(fleet, nginx is not null, report, cancellationToken);
        }

        if (options.Runs(5))
        {
            Progress.Say("scenario 5: start, idle memory, size");
            await new StartupScenario(options).RunAsync(fleet, nginx is not null, report, cancellationToken);
        }

        if (options.Runs(6))
        {
            Progress.Say("scenario 6: large request bodies");
            await new LargeBodyScenario().RunAsync(fleet, report, cancellationToken);
        }
    }
}
