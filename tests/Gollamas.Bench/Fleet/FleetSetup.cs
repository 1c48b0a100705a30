using System.Globalization;
using Gollamas.Bench.Load;
using Gollamas.Simulator;
using Gollamas.Simulator.Workload;

namespace Gollamas.Bench.Fleet;

/// <summary>A way to put the fleet behind one address: a proxy and its configuration.</summary>
internal sealed record FleetSetup(string Name, string Description)
{
    public static readonly FleetSetup Gollamas = new("gollamas", "Gollamas, every model on every server");
    public static readonly FleetSetup NginxRoundRobin = new("nginx-rr", "nginx round-robin over every server");
    public static readonly FleetSetup NginxLeastConn = new("nginx-lc", "nginx least_conn over every server");
    public static readonly FleetSetup OnePerModel = new("one-per-model", "Gollamas, each model on one server (the original gollamas's setup)");

    public static IReadOnlyList<FleetSetup> All { get; } = [Gollamas, NginxRoundRobin, NginxLeastConn, OnePerModel];

    public bool NeedsNginx => this == NginxRoundRobin || this == NginxLeastConn;

    /// <summary>Starts the proxy in front of <paramref name="fleet"/> and waits until it answers.</summary>
    public async Task<IFleetTarget> StartAsync(SimFleet fleet, FleetOptions options, int seed)
    {
        var port = FreePort.Next();
        var child = NeedsNginx ? StartNginx(fleet, options, port, out var directory) : StartGollamas(fleet, options, port, seed, out directory);
        var target = new ChildTarget(child, directory);
        try
        {
            await child.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch
        {
            await target.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return target;
    }

    private ChildProcess StartGollamas(SimFleet fleet, FleetOptions options, int port, int seed, out string? directory)
    {
        directory = null;
        // The proxy's own timers run in real time: its probes and /api/ps reads every 5 s (the
        // default) come every 5 simulated seconds when the interval is divided by the scale.
        var interval = TimeSpan.FromSeconds(5) / options.Scale;
        var args = new List<string>
        {
            "--listen", $"127.0.0.1:{Invariant(port)}", "--level", options.ProxyLog is null ? "warn" : "debug",
            "--health-interval", $"{Invariant((int)Math.Max(1, Math.Round(interval.TotalMilliseconds)))}ms",

            // As an operator of these servers would say: their OLLAMA_NUM_PARALLEL.
            "--num-parallel", Invariant(fleet.Scenario.NumParallel),
        };
        for (var i = 0; i < fleet.Servers.Count; i++)
        {
            args.AddRange(["--connection", $"{ServerId(i)}={fleet.Servers[i].BaseUri}"]);
        }

        var models = fleet.Scenario.Models;
        var placement = fleet.Scenario.OneServerPerModel();
        for (var m = 0; m < models.Count; m++)
        {
            for (var i = 0; i < fleet.Servers.Count; i++)
            {
                if (this == Gollamas || placement[m] == i)
                {
                    args.AddRange(["--proxy", $"{models[m].Name}={ServerId(i)}"]);
                }
            }
        }

        var log = options.ProxyLog is null ? null : $"{options.ProxyLog}-{Name}-seed{Invariant(seed)}.log";
        return ChildProcess.Start(Name, options.ProxyBinary, args, port, log: log);
    }

    private ChildProcess StartNginx(SimFleet fleet, FleetOptions options, int port, out string? directory)
    {
        var nginx = options.Nginx ?? throw new InvalidOperationException("no nginx");
        var dir = Directory.CreateTempSubdirectory("gollamas-fleet-nginx-").FullName;
        directory = dir;
        if (!OperatingSystem.IsWindows())
        {
            // Workers run as another user when the master is root: let them into the directory.
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var servers = string.Join('\n', fleet.Servers.Select(s => $"        server 127.0.0.1:{Invariant(s.BaseUri.Port)};"));
        var config = File.ReadAllText(Path.Combine(options.AssetsDirectory, "nginx-fleet.conf.template"))
            .Replace("{{DIR}}", dir, StringComparison.Ordinal)
            .Replace("{{PORT}}", Invariant(port), StringComparison.Ordinal)
            .Replace("{{BALANCE}}", this == NginxLeastConn ? "least_conn;" : "# round-robin", StringComparison.Ordinal)
            .Replace("{{SERVERS}}", servers, StringComparison.Ordinal);
        var file = Path.Combine(dir, "nginx.conf");
        File.WriteAllText(file, config);
        return ChildProcess.Start(Name, nginx, ["-p", dir, "-e", Path.Combine(dir, "error.log"), "-c", file], port);
    }

    private static string ServerId(int index) => "s" + Invariant(index + 1);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed class ChildTarget(ChildProcess child, string? directory) : IFleetTarget
    {
        public Uri BaseUri => new($"http://127.0.0.1:{Invariant(child.Port)}/");

        public ValueTask DisposeAsync()
        {
            child.Dispose();
            if (directory is not null)
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                    // A worker still closing its log: leave the temporary directory behind.
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
