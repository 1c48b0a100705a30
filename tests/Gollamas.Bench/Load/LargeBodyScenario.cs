using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gollamas.Bench.Load;

/// <summary>
/// Scenario 6: four chat requests of 200 MB each (one base64 "image"), sent at once through a
/// proxy process started for this scenario alone: its peak RSS while they pass (polled every
/// 50 ms and checked against the kernel's high-water mark), and its RSS 10 s after the last
/// answer, which tells memory the proxy gave back from memory it kept.
/// </summary>
internal sealed class LargeBodyScenario
{
    private const int Requests = 4;
    private const long BodyBytes = 200L * 1000 * 1000;
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(10);

    public async Task RunAsync(ServerFleet fleet, BenchReport report, CancellationToken cancellationToken)
    {
        var gollamas = await fleet.StartGollamasAsync();
        try
        {
            var pid = gollamas.Proxy!.Id;
            var idle = ProcFs.TreeRssBytes(pid);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var peak = 0L;
            var poller = PollRssAsync(pid, b => peak = Math.Max(peak, b), done.Token);
            var started = DateTime.UtcNow;
            var statuses = await Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => SendAsync(gollamas.Small, cancellationToken)));
            var elapsed = DateTime.UtcNow - started;
            await done.CancelAsync();
            await poller;
            peak = Math.Max(peak, ProcFs.TreePeakRssBytes(pid));

            // What is measured is the memory the proxy keeps once the bodies are gone: a wait by design.
            await Task.Delay(s_settle, cancellationToken);
            var after = ProcFs.TreeRssBytes(pid);
            var errors = statuses.Count(static s => s != 200);
            Progress.Say(string.Create(CultureInfo.InvariantCulture,
                $"large bodies {Requests}x{BodyBytes / 1e6:0} MB: statuses {string.Join(",", statuses)}, {elapsed.TotalSeconds:0.0} s, idle {idle / 1048576.0:0.0} MiB, peak {peak / 1048576.0:0.0} MiB, {s_settle.TotalSeconds:0} s after {after / 1048576.0:0.0} MiB"));
            var label = string.Create(CultureInfo.InvariantCulture, $"6 {Requests} x {BodyBytes / 1e6:0} MB chats");
            report.Add(new MetricRow("large_errors", $"{label}: errors", "count", null, null, errors, Goal.Zero));
            report.Add(new MetricRow("large_peak_rss_mib", $"{label}: proxy peak RSS", "MiB", null, null, peak / 1048576.0, Goal.Below(128)));
            report.Add(new MetricRow("large_after_rss_mib", $"{label}: proxy RSS 10 s after", "MiB", null, null, after / 1048576.0, Goal.Below(48)));
            report.Add(new MetricRow("large_seconds", $"{label}: time for all", "s", null, null, elapsed.TotalSeconds));
        }
        finally
        {
            fleet.Stop(gollamas.Proxy!);
        }
    }

    /// <summary>Sends one chat body of <see cref="BodyBytes"/>, generated as it goes, and returns the status.</summary>
    private static async Task<int> SendAsync(IPEndPoint proxy, CancellationToken cancellationToken)
    {
        var prefix = Encoding.ASCII.GetBytes("{\"model\":\"" + ServerFleet.SmallModel + "\",\"messages\":[{\"role\":\"user\",\"content\":\"What is in this picture?\",\"images\":[\"");
        var suffix = "\"]}],\"stream\":false}"u8.ToArray();
        var filler = new byte[1024 * 1024];
        filler.AsSpan().Fill((byte)'A');
        var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {BodyBytes}\r\n\r\n"));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(proxy, cancellationToken);
        await socket.SendAsync(head, cancellationToken);
        await socket.SendAsync(prefix, cancellationToken);
        var left = BodyBytes - prefix.Length - suffix.Length;
        while (left > 0)
        {
            var part = (int)Math.Min(left, filler.Length);
            await socket.SendAsync(filler.AsMemory(0, part), cancellationToken);
            left -= part;
        }

        await socket.SendAsync(suffix, cancellationToken);
        var parser = new ResponseParser();
        var buffer = new byte[4096];
        while (!parser.Done)
        {
            var read = await socket.ReceiveAsync(buffer, cancellationToken);
            if (read == 0 || !parser.Feed(buffer.AsSpan(0, read)))
            {
                return 0;
            }
        }

        return parser.Status;
    }

    private static async Task PollRssAsync(int pid, Action<long> sample, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            do
            {
                sample(ProcFs.TreeRssBytes(pid));
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // The requests are done.
        }
    }
}
