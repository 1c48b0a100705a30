namespace Gollamas.Simulator;

/// <summary>A fleet and the load on it: the servers, the models they all hold, the users.</summary>
public sealed record FleetScenario
{
    public required string Name { get; init; }

    public int Servers { get; init; } = 3;

    public double MemoryGb { get; init; } = 24;

    public int NumParallel { get; init; } = 2;

    public int MaxQueue { get; init; } = 512;

    public required IReadOnlyList<SimModel> Models { get; init; }

    public int Users { get; init; } = 24;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public static IReadOnlyList<string> Names { get; } = ["default", "light", "overfull"];

    /// <summary>
    /// default: 3 servers of 24 GB, 6 models of 2-14 GB (45 GB: each fits anywhere, all fit the
    /// fleet, not one server), 2 slots each, 24 users, 60 s. light: half the users. overfull: 10
    /// models of 83 GB, more than the fleet holds.
    /// </summary>
    public static FleetScenario? Named(string name) => name switch
    {
        "default" => Default,
        "light" => Default with { Name = "light", Users = 12 },
        "overfull" => Default with
        {
            Name = "overfull",
            Models = [.. Default.Models, SimModel.OfSize("m3g:latest", 3), SimModel.OfSize("m7g:latest", 7), SimModel.OfSize("m12g:latest", 12), SimModel.OfSize("m16g:latest", 16)],
        },
        _ => null,
    };

    public static FleetScenario Default { get; } = new()
    {
        Name = "default",
        Models =
        [
            SimModel.OfSize("m2g:latest", 2),
            SimModel.OfSize("m4g:latest", 4),
            SimModel.OfSize("m6g:latest", 6),
            SimModel.OfSize("m8g:latest", 8),
            SimModel.OfSize("m11g:latest", 11),
            SimModel.OfSize("m14g:latest", 14),
        ],
    };

    public SimServerOptions ServerOptions(int index) => new()
    {
        Name = "s" + (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
        MemoryGb = MemoryGb,
        NumParallel = NumParallel,
        MaxQueue = MaxQueue,
        Models = Models,
    };

    /// <summary>
    /// The original gollamas's setup: each model on exactly one server, the largest first, each
    /// on the server with the most room left (so the models fit when they can).
    /// </summary>
    public IReadOnlyList<int> OneServerPerModel()
    {
        var free = Enumerable.Repeat(MemoryGb, Servers).ToArray();
        var placement = new int[Models.Count];
        foreach (var i in Enumerable.Range(0, Models.Count).OrderByDescending(i => Models[i].SizeGb))
        {
            var server = Array.IndexOf(free, free.Max());
            placement[i] = server;
            free[server] -= Models[i].SizeGb;
        }

        return placement;
    }
}
