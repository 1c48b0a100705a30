namespace Gollamas.Simulator;

/// <summary>The simulated servers of one run, on one clock; disposing stops them all.</summary>
public sealed class SimFleet : IAsyncDisposable
{
    private SimFleet(FleetScenario scenario, IReadOnlyList<SimOllamaServer> servers)
    {
        Scenario = scenario;
        Servers = servers;
    }

    public FleetScenario Scenario { get; }

    public IReadOnlyList<SimOllamaServer> Servers { get; }

    /// <summary>Every server's counters, added up.</summary>
    public SimCounters Counters => Servers.Select(s => s.Model.Counters).Aggregate(new SimCounters(), SimCounters.Add);

    public static async Task<SimFleet> StartAsync(FleetScenario scenario, SimClock clock)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var servers = new List<SimOllamaServer>();
        try
        {
            for (var i = 0; i < scenario.Servers; i++)
            {
                servers.Add(await SimOllamaServer.StartAsync(new SimServer(scenario.ServerOptions(i), clock)).ConfigureAwait(false));
            }
        }
        catch
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return new SimFleet(scenario, servers);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Servers.Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
    }
}
