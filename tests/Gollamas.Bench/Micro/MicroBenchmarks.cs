namespace Gollamas.Bench.Micro;

/// <summary>Entry point of the BenchmarkDotNet micro-benchmarks.</summary>
public static class MicroBenchmarks
{
    public static int Run(string[] args)
    {
        _ = args;
        Console.Error.WriteLine("micro: not written yet");
        return 1;
    }
}
