using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Gollamas.Diagnostics;

namespace Gollamas.Metrics;

/// <summary>
/// <c>gollamas_build_info</c> and the process metrics every Prometheus client library exports
/// (<c>process_cpu_seconds_total</c>, <c>process_resident_memory_bytes</c>, ...), read from
/// <c>/proc/self</c> at scrape time, as the Go client's procfs does: nothing is kept between
/// scrapes and nothing runs between them. Where <c>/proc</c> cannot be read (not Linux), the
/// process metrics are left out, the build's line stays.
/// </summary>
internal static class ProcessMetrics
{
    // The clock ticks of /proc's times: USER_HZ, 100 on every Linux architecture (the kernel
    // scales to it whatever its own HZ; Go's procfs takes 100 too).
    private const double TicksPerSecond = 100;

    public static void WriteTo(StringBuilder text)
    {
        text.Append("# HELP gollamas_build_info The proxy's version and the source revision it was built from; always 1.\n");
        text.Append("# TYPE gollamas_build_info gauge\n");
        text.Append("gollamas_build_info{version=\"").Append(LabelValue(VersionInfo.Version)).Append("\",commit=\"").Append(LabelValue(VersionInfo.Commit)).Append("\"} 1\n");

        if (!TryReadStat(out var stat))
        {
            return;
        }

        Write(text, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", (stat.UserTicks + stat.SystemTicks) / TicksPerSecond);
        Write(text, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", stat.ResidentPages * (double)Environment.SystemPageSize);
        Write(text, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", stat.VirtualBytes);
        if (TryReadBootTime(out var bootTime))
        {
            Write(text, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", bootTime + (stat.StartTicks / TicksPerSecond));
        }

        if (TryCountOpenFiles(out var open))
        {
            Write(text, "process_open_fds", "gauge", "Number of open file descriptors.", open);
        }

        if (TryReadMaxFiles(out var max))
        {
            Write(text, "process_max_fds", "gauge", "Maximum number of open file descriptors.", max);
        }
    }

    private static void Write(StringBuilder text, string name, string type, string help, double value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    // A version or commit is the build's own text, but a label value still escapes what it must.
    private static string LabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>
    /// Reads <c>/proc/self/stat</c> (proc(5)): the fields after the command's closing parenthesis
    /// (the command may hold spaces and parentheses), from the third field on.
    /// </summary>
    internal static bool TryParseStat(string line, [NotNullWhen(true)] out ProcessStat? stat)
    {
        stat = null;
        var close = line.LastIndexOf(')');
        if (close < 0)
        {
            return false;
        }

        var fields = line[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // Field n of proc(5) is fields[n - 3]: utime 14, stime 15, starttime 22, vsize 23, rss 24.
        if (fields.Length < 22
            || !ulong.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !ulong.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var system)
            || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(fields[20], NumberStyles.None, CultureInfo.InvariantCulture, out var virtualBytes)
            || !long.TryParse(fields[21], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var resident))
        {
            return false;
        }

        stat = new ProcessStat(user, system, start, virtualBytes, Math.Max(0, resident));
        return true;
    }

    private static bool TryReadStat([NotNullWhen(true)] out ProcessStat? stat)
    {
        stat = null;
        try
        {
            return TryParseStat(File.ReadAllText("/proc/self/stat"), out stat);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryReadBootTime(out double seconds)
    {
        seconds = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                if (line.StartsWith("btime ", StringComparison.Ordinal))
                {
                    return double.TryParse(line.AsSpan(6), NumberStyles.Integer, CultureInfo.InvariantCulture, out seconds);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return false;
    }

    private static bool TryCountOpenFiles(out double count)
    {
        count = 0;
        try
        {
            foreach (var _ in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                count++;
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The soft limit of "Max open files" in <c>/proc/self/limits</c>; none when unlimited.</summary>
    internal static bool TryParseMaxFiles(IEnumerable<string> limits, out double max)
    {
        max = 0;
        foreach (var line in limits)
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && double.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out max);
            }
        }

        return false;
    }

    private static bool TryReadMaxFiles(out double max)
    {
        max = 0;
        try
        {
            return TryParseMaxFiles(File.ReadLines("/proc/self/limits"), out max);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
