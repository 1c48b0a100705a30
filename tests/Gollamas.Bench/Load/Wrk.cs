using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Gollamas.Bench.Load;

/// <summary>Runs wrk with bench/post.lua against one URL and reads its summary line.</summary>
internal sealed class Wrk(string executable, string script)
{
    public async Task<WrkResult> RunAsync(string url, string body, int connections, TimeSpan duration, CancellationToken cancellationToken)
    {
        // One wrk thread per core at most, never more threads than connections.
        var threads = Math.Min(connections, Math.Min(2, Environment.ProcessorCount));
        var info = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            "-t", threads.ToString(CultureInfo.InvariantCulture),
            "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", $"{Math.Max(1, (int)duration.TotalSeconds)}s",
            "--timeout", "10s",
            "-s", script,
            url,
        })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["BENCH_BODY"] = body;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = await stdout;
        var line = output.Split('\n').FirstOrDefault(static l => l.StartsWith("BENCH ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no summary (exit {process.ExitCode}): {output} {await stderr}");

        using var summary = JsonDocument.Parse(line[6..]);
        var root = summary.RootElement;
        long Get(string name) => root.GetProperty(name).GetInt64();
        var errors = Get("connect") + Get("read") + Get("write") + Get("status") + Get("timeout");
        return new WrkResult(Get("requests"), Get("duration_us") / 1e6, Get("bytes"), errors, Get("p50_us") / 1e3, Get("p99_us") / 1e3);
    }
}
