using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Gollamas.Bench.Load;

/// <summary>What the figures were measured on; printed in the table header and kept in the JSON.</summary>
internal sealed record MachineFacts(int Cores, string Cpu, string Kernel, string Dotnet, string Nginx, string Wrk, string Gollamas)
{
    public static MachineFacts Collect(LoadOptions options) => new(
        Environment.ProcessorCount,
        CpuModel(),
        ReadOrUnknown("/proc/sys/kernel/osrelease"),
        RuntimeInformation.FrameworkDescription,
        options.Nginx is null ? "absent" : FirstLine(options.Nginx, "-v").Replace("nginx version: ", string.Empty, StringComparison.Ordinal),
        options.Wrk is null ? "wrk absent" : FirstLine(options.Wrk, "-v").Split(' ', 3) is [var name, var version, ..] ? $"{name} {version}" : "unknown",
        FirstLine(options.ProxyBinary, "--version"));

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string ReadOrUnknown(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "unknown";

    // nginx -v and wrk -v print their version to stderr (wrk then its usage, exiting 1).
    private static string FirstLine(string executable, string argument)
    {
        try
        {
            var info = new ProcessStartInfo(executable, argument)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEnd();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            var text = stdout.Trim().Length > 0 ? stdout : stderr;
            return text.Split('\n')[0].Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
