namespace Gollamas.Bench.Load;

/// <summary>CPU time a process tree used since the meter started, per unit of work done.</summary>
internal readonly struct CpuMeter
{
    private readonly int _pid;
    private readonly double _start;

    private CpuMeter(int pid)
    {
        _pid = pid;
        _start = ProcFs.TreeCpuSeconds(pid);
    }

    public static CpuMeter Start(int pid) => new(pid);

    /// <summary>CPU milliseconds used per <paramref name="units"/>/1000 units of work.</summary>
    public double MillisecondsPerThousand(double units) => (ProcFs.TreeCpuSeconds(_pid) - _start) * 1e6 / units;
}
