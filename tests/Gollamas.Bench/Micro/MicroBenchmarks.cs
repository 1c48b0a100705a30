using BenchmarkDotNet.Running;

namespace Gollamas.Bench.Micro;

/// <summary>
/// Entry point of <c>micro</c>. With <c>--chunks</c>, the streaming allocation measurement
/// (<see cref="ChunkAllocationRun"/>, outside BenchmarkDotNet; add <c>--by-type</c> for which
/// types make up the per-chunk bytes); otherwise BenchmarkDotNet over
/// every benchmark class here, taking its usual arguments (<c>--filter</c>, <c>--job</c>, ...).
/// </summary>
public static class MicroBenchmarks
{
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Contains("--chunks"))
        {
            return ChunkAllocationRun.RunAsync(byType: args.Contains("--by-type")).GetAwaiter().GetResult();
        }

        var summaries = BenchmarkSwitcher
            .FromTypes([typeof(ModelPeekBenchmarks), typeof(RouteLookupBenchmarks)])
            .Run(WithDefaults(args));
        return summaries.Any(static s => s.HasCriticalValidationErrors || s.Reports.Any(static r => !r.Success)) ? 1 : 0;
    }

    // Without a filter BenchmarkSwitcher asks on the console which class to run, which hangs a
    // scripted run; without a job it runs the default one, several minutes on a shared 2-core
    // machine. Either given explicitly wins.
    private static string[] WithDefaults(string[] args)
    {
        var withDefaults = args.ToList();
        if (!args.Any(static a => a is "--filter" or "-f"))
        {
            withDefaults.AddRange(["--filter", "*"]);
        }

        if (!args.Any(static a => a is "--job" or "-j"))
        {
            withDefaults.AddRange(["--job", "short"]);
        }

        return [.. withDefaults];
    }
}
