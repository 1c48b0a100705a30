namespace Gollamas.Simulator.Workload;

/// <summary>
/// The figures of one run, or of several pooled: latencies from what the clients saw, loads and
/// cache from what the servers did. Times in simulated seconds.
/// </summary>
public sealed record FleetMetrics
{
    public int Requests { get; init; }

    public int Completed { get; init; }

    /// <summary>Requests a client saw fail (503s included), cut ones not.</summary>
    public int Errors { get; init; }

    /// <summary>Requests whose client saw a 503.</summary>
    public int Busy503Seen { get; init; }

    /// <summary>Requests still running when the drain time ran out.</summary>
    public int Cut { get; init; }

    public double TtftP50 { get; init; }

    public double TtftP95 { get; init; }

    public double TtftP99 { get; init; }

    public double EndToEndP95 { get; init; }

    /// <summary>Answer tokens the clients received before the end, per second of the workload, fleet-wide.</summary>
    public double Goodput { get; init; }

    public long Loads { get; init; }

    public long Evictions { get; init; }

    public long Reloads { get; init; }

    /// <summary>503 answers the servers gave (a proxy may have retried them elsewhere).</summary>
    public long ServerBusy { get; init; }

    public double CacheHitRatio { get; init; }

    public static FleetMetrics From(IReadOnlyList<(WorkloadResult Result, SimCounters Counters)> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var records = runs.SelectMany(r => r.Result.Requests).ToArray();
        var counters = runs.Select(r => r.Counters).Aggregate(new SimCounters(), SimCounters.Add);
        var seconds = runs.Sum(r => r.Result.Options.Duration.TotalSeconds);
        var ttft = records.Where(r => r.TimeToFirstToken is not null).Select(r => r.TimeToFirstToken!.Value.TotalSeconds).ToArray();
        var e2e = records.Where(r => r.Completed).Select(r => r.EndToEnd!.Value.TotalSeconds).ToArray();
        return new FleetMetrics
        {
            Requests = records.Length,
            Completed = records.Count(r => r.Completed),
            Errors = records.Count(r => r.Error is not null && !r.Cut),
            Busy503Seen = records.Count(r => r.Status == 503),
            Cut = records.Count(r => r.Cut),
            TtftP50 = Percentile(ttft, 50),
            TtftP95 = Percentile(ttft, 95),
            TtftP99 = Percentile(ttft, 99),
            EndToEndP95 = Percentile(e2e, 95),
            Goodput = seconds == 0 ? 0 : records.Sum(r => r.TokensInTime) / seconds,
            Loads = counters.Loads,
            Evictions = counters.Evictions,
            Reloads = counters.Reloads,
            ServerBusy = counters.Busy,
            CacheHitRatio = counters.CacheHitRatio,
        };
    }

    /// <summary>Nearest rank; NaN for no sample.</summary>
    public static double Percentile(IReadOnlyList<double> samples, double percentile)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
