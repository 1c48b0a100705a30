namespace Gollamas.Simulator.Workload;

/// <summary>A proxy (or anything) in front of a simulated fleet, started for one run.</summary>
public interface IFleetTarget : IAsyncDisposable
{
    Uri BaseUri { get; }
}

/// <summary>One run's records and the servers' counters.</summary>
public sealed record FleetRun(WorkloadResult Result, SimCounters Counters, FleetMetrics Metrics, IReadOnlyList<SimCounters> PerServer);

/// <summary>
/// One run: a fresh fleet on a fresh clock, the target in front of it, the workload through the
/// target, and the figures. Nothing is shared between runs.
/// </summary>
public static class FleetRunner
{
    public static async Task<FleetRun> RunAsync(
        FleetScenario scenario,
        WorkloadOptions workload,
        double scale,
        Func<SimFleet, Task<IFleetTarget>> startTarget,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(startTarget);
        using var clock = new ScaledClock(scale);
        WorkloadResult result;
        IReadOnlyList<SimCounters> perServer;
        await using (var fleet = await SimFleet.StartAsync(scenario, clock).ConfigureAwait(false))
        {
            var target = await startTarget(fleet).ConfigureAwait(false);
            await using (target.ConfigureAwait(false))
            {
                result = await WorkloadRunner.RunAsync(target.BaseUri, workload, clock, cancellationToken).ConfigureAwait(false);
            }

            perServer = fleet.Servers.Select(s => s.Model.Counters).ToArray();
        }

        if (clock.Fault is { } fault)
        {
            throw new InvalidOperationException("The simulated fleet's model failed; its figures cannot be used.", fault);
        }

        var counters = perServer.Aggregate(new SimCounters(), SimCounters.Add);
        return new FleetRun(result, counters, FleetMetrics.From([(result, counters)]), perServer);
    }
}
