using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>The load run's command line, already checked.</summary>
internal sealed record LoadOptions
{
    public required string ProxyBinary { get; init; }

    /// <summary>nginx executable, or null to leave nginx out.</summary>
    public string? Nginx { get; init; }

    /// <summary>wrk executable, or null: then scenarios 1 and 2 are skipped.</summary>
    public string? Wrk { get; init; }

    /// <summary>tests/Gollamas.Bench/bench: nginx config template and wrk script.</summary>
    public required string AssetsDirectory { get; init; }

    public required string OutputDirectory { get; init; }

    public bool Quick { get; init; }

    /// <summary>Scenario numbers to run (1-6); all when empty. For iterating on one figure.</summary>
    public IReadOnlySet<int> Only { get; init; } = new HashSet<int>();

    public bool Runs(int scenario) => Only.Count == 0 || Only.Contains(scenario);

    /// <summary>Length of each wrk measurement.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds(Quick ? 3 : 6);

    /// <summary>
    /// wrk measurements per target, interleaved (direct, nginx, Gollamas, direct, ...); the best
    /// counts. The cores are shared with whatever else runs, and a round slowed by a neighbour
    /// says nothing about the proxy.
    /// </summary>
    public int Rounds => Quick ? 1 : 2;

    /// <summary>Unmeasured load before each measurement: JIT tiers, pools and caches settle.</summary>
    public TimeSpan Warmup => TimeSpan.FromSeconds(Quick ? 1 : 2);

    public int SlowStreams => 1000;

    /// <summary>Lines per slow stream, 100 ms apart: the time all 1000 are held open.</summary>
    public int SlowStreamChunks => Quick ? 20 : 50;

    public const string Usage = """
        usage: Gollamas.Bench load --proxy-binary PATH [--nginx PATH|none] [--wrk PATH|none]
                                   [--assets DIR] [--out DIR] [--quick] [--only 1,4]
        """;

    /// <summary>Parses <paramref name="args"/>; null (after printing why) when they are wrong.</summary>
    public static LoadOptions? Parse(string[] args, TextWriter error)
    {
        string? proxy = null, assets = null, output = null;
        string? nginx = BenchPaths.FindOnPath("nginx"), wrk = BenchPaths.FindOnPath("wrk");
        var quick = false;
        var only = new HashSet<int>();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--proxy-binary": proxy = Value(); break;
                    case "--nginx": nginx = NoneIsNull(Value()); break;
                    case "--wrk": wrk = NoneIsNull(Value()); break;
                    case "--assets": assets = Value(); break;
                    case "--out": output = Value(); break;
                    case "--quick": quick = true; break;
                    case "--only":
                        foreach (var number in Value().Split(','))
                        {
                            only.Add(int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 6
                                ? n
                                : throw new ArgumentException($"--only takes scenario numbers 1-6, not '{number}'"));
                        }

                        break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }
            catch (ArgumentException ex)
            {
                error.WriteLine($"load: {ex.Message}");
                error.WriteLine(Usage);
                return null;
            }
        }

        if (proxy is null || !File.Exists(proxy))
        {
            error.WriteLine($"load: --proxy-binary must name the published gollamas binary ({proxy ?? "missing"})");
            return null;
        }

        assets ??= BenchPaths.FindAssets("post.lua");
        if (assets is null || !File.Exists(Path.Combine(assets, "post.lua")))
        {
            error.WriteLine("load: cannot find tests/Gollamas.Bench/bench; pass --assets DIR");
            return null;
        }

        return new LoadOptions
        {
            ProxyBinary = Path.GetFullPath(proxy),
            Nginx = nginx,
            Wrk = wrk,
            AssetsDirectory = Path.GetFullPath(assets),
            OutputDirectory = Path.GetFullPath(output ?? "artifacts/bench"),
            Quick = quick,
            Only = only,
        };
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"quick={Quick} rounds={Rounds} duration={Duration.TotalSeconds}s warmup={Warmup.TotalSeconds}s slow-streams={SlowStreams}x{SlowStreamChunks}");

    private static string? NoneIsNull(string value) => value == "none" ? null : value;
}
