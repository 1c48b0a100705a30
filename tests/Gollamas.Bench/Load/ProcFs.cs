using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>
/// Memory and CPU figures of a process and its descendants, read from /proc. A process tree
/// counts whole because nginx serves from worker children of its master.
/// </summary>
internal static class ProcFs
{
    // USER_HZ: /proc/PID/stat counts CPU time in ticks of 1/100 s on every Linux the bench targets.
    private const double TicksPerSecond = 100;

    /// <summary>Sum of VmRSS (resident set) over the tree, in bytes; 0 when the process is gone.</summary>
    public static long TreeRssBytes(int pid) => SumOverTree(pid, static p => StatusKiloBytes(p, "VmRSS:") * 1024);

    /// <summary>Sum of VmHWM (each process's own resident peak) over the tree, in bytes.</summary>
    public static long TreePeakRssBytes(int pid) => SumOverTree(pid, static p => StatusKiloBytes(p, "VmHWM:") * 1024);

    /// <summary>User plus system CPU time used so far by the tree, in seconds.</summary>
    public static double TreeCpuSeconds(int pid) => SumOverTree(pid, CpuTicks) / TicksPerSecond;

    private static long SumOverTree(int pid, Func<int, long> measure)
    {
        long total = 0;
        var pending = new Stack<int>();
        pending.Push(pid);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            total += measure(current);
            foreach (var child in Children(current))
            {
                pending.Push(child);
            }
        }

        return total;
    }

    private static List<int> Children(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var text = File.ReadAllText(Path.Combine(task, "children"));
                foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    children.Add(int.Parse(part, CultureInfo.InvariantCulture));
                }
            }
        }
        catch (IOException)
        {
            // The process ended while we looked: it has no children any more.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return children;
    }

    private static long StatusKiloBytes(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var value = line.AsSpan(field.Length).Trim();
                    var space = value.IndexOf(' ');
                    return long.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }

    private static long CpuTicks(int pid)
    {
        try
        {
            // The command name in parentheses may hold spaces: count fields after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

            // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the name.
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
