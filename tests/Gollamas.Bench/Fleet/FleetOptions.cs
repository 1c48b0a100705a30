using System.Globalization;
using Gollamas.Bench.Load;
using Gollamas.Simulator;

namespace Gollamas.Bench.Fleet;

/// <summary>The fleet run's command line, already checked.</summary>
internal sealed record FleetOptions
{
    public required string ProxyBinary { get; init; }

    /// <summary>nginx executable, or null to leave the nginx setups out.</summary>
    public string? Nginx { get; init; }

    /// <summary>tests/Gollamas.Bench/bench: the nginx configuration template.</summary>
    public required string AssetsDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public required FleetScenario Scenario { get; init; }

    public required IReadOnlyList<int> Seeds { get; init; }

    public required IReadOnlyList<FleetSetup> Setups { get; init; }

    /// <summary>Simulated seconds per real second.</summary>
    public double Scale { get; init; }

    public bool Quick { get; init; }

    /// <summary>With a value, Gollamas runs at debug level and its log goes to PREFIX-SETUP-seedN.log (one route choice per line).</summary>
    public string? ProxyLog { get; init; }

    public const string Usage = """
        usage: Gollamas.Bench fleet --proxy-binary PATH [--nginx PATH|none] [--assets DIR] [--out DIR]
                                    [--quick] [--seeds 1,2,3] [--users N] [--duration 60s]
                                    [--scenario default|light|overfull] [--scale 5]
                                    [--setups gollamas,nginx-rr,nginx-lc,one-per-model] [--proxy-log PREFIX]
          --quick: one seed, 30 simulated seconds at 10x: about 30 s on a 2-core machine; the
          default run (three seeds, 60 s at 5x, four setups): about 4-5 minutes.
          --proxy-log: Gollamas at debug level, its log in PREFIX-SETUP-seedN.log (the route
          choices with every server's estimate), to see why a run went as it did.
        """;

    public static FleetOptions? Parse(string[] args, TextWriter error)
    {
        string? proxy = null, assets = null, output = null, proxyLog = null, nginx = BenchPaths.FindOnPath("nginx");
        var quick = false;
        string scenarioName = "default";
        int? users = null;
        TimeSpan? duration = null;
        double? scale = null;
        IReadOnlyList<int>? seeds = null;
        IReadOnlyList<FleetSetup> setups = FleetSetup.All;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--proxy-binary": proxy = Value(); break;
                    case "--nginx": nginx = Value() is var n && n == "none" ? null : n; break;
                    case "--assets": assets = Value(); break;
                    case "--out": output = Value(); break;
                    case "--proxy-log": proxyLog = Value(); break;
                    case "--quick": quick = true; break;
                    case "--scenario": scenarioName = Value(); break;
                    case "--users": users = PositiveInt(Value(), "--users"); break;
                    case "--seeds": seeds = Value().Split(',').Select(s => PositiveInt(s, "--seeds")).ToArray(); break;
                    case "--scale":
                        scale = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x > 0
                            ? x
                            : throw new ArgumentException("--scale takes a positive number (simulated seconds per real second)");
                        break;
                    case "--duration":
                        duration = GoDuration.TryParse(Value(), out var d) && d > TimeSpan.Zero
                            ? d
                            : throw new ArgumentException("--duration takes a duration such as 60s or 2m");
                        break;
                    case "--setups":
                        setups = Value().Split(',').Select(name => FleetSetup.All.FirstOrDefault(s => s.Name == name)
                            ?? throw new ArgumentException($"--setups takes {string.Join(", ", FleetSetup.All.Select(s => s.Name))}, not '{name}'")).ToArray();
                        break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }
            catch (ArgumentException ex)
            {
                error.WriteLine($"fleet: {ex.Message}");
                error.WriteLine(Usage);
                return null;
            }
        }

        if (FleetScenario.Named(scenarioName) is not { } scenario)
        {
            error.WriteLine($"fleet: --scenario is one of {string.Join(", ", FleetScenario.Names)}, not '{scenarioName}'");
            return null;
        }

        if (proxy is null || !File.Exists(proxy))
        {
            error.WriteLine($"fleet: --proxy-binary must name the published gollamas binary ({proxy ?? "missing"})");
            return null;
        }

        assets ??= BenchPaths.FindAssets("nginx-fleet.conf.template");
        if (assets is null || !File.Exists(Path.Combine(assets, "nginx-fleet.conf.template")))
        {
            error.WriteLine("fleet: cannot find tests/Gollamas.Bench/bench; pass --assets DIR");
            return null;
        }

        scenario = scenario with
        {
            Users = users ?? scenario.Users,
            Duration = duration ?? (quick ? TimeSpan.FromSeconds(30) : scenario.Duration),
        };
        return new FleetOptions
        {
            ProxyBinary = Path.GetFullPath(proxy),
            Nginx = nginx,
            AssetsDirectory = Path.GetFullPath(assets),
            OutputDirectory = Path.GetFullPath(output ?? "artifacts/bench/fleet"),
            Scenario = scenario,
            Seeds = seeds ?? (quick ? [1] : [1, 2, 3]),
            Setups = setups.Where(s => nginx is not null || !s.NeedsNginx).ToArray(),
            Scale = scale ?? (quick ? 10 : 5),
            Quick = quick,
            ProxyLog = proxyLog is null ? null : Path.GetFullPath(proxyLog),
        };
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"scenario={Scenario.Name} servers={Scenario.Servers}x{Scenario.MemoryGb}GB models={Scenario.Models.Count} ({Scenario.Models.Sum(m => m.SizeGb)} GB) parallel={Scenario.NumParallel} users={Scenario.Users} duration={Scenario.Duration.TotalSeconds}s scale={Scale}x seeds={string.Join(',', Seeds)} setups={string.Join(',', Setups.Select(s => s.Name))}");

    private static int PositiveInt(string text, string flag)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{flag} takes positive whole numbers, not '{text}'");
}
