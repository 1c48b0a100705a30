using System.Globalization;
using Gollamas.Simulator;
using Gollamas.Simulator.Workload;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Simulator;

/// <summary>
/// The quick fleet run through the proxy: the simulator, the workload and Gollamas together,
/// for a few real seconds. Not a measurement: it proves the instrument works end to end.
/// </summary>
public sealed class FleetSmokeTests
{
    [Fact]
    public async Task QuickFleetRun_ThroughGollamas_FinishesWithoutErrors()
    {
        var scenario = FleetScenario.Default with { Users = 8, Duration = TimeSpan.FromSeconds(40) };
        var workload = new WorkloadOptions
        {
            Seed = 1,
            Users = scenario.Users,
            Duration = scenario.Duration,
            Drain = TimeSpan.FromSeconds(90),
            Models = scenario.Models.Select(m => m.Name).ToArray(),
        };

        var run = await FleetRunner.RunAsync(scenario, workload, scale: 20, StartProxyAsync).DefaultTimeout(TimeSpan.FromSeconds(30));

        var metrics = run.Metrics;
        metrics.Errors.Should().Be(0);
        metrics.Cut.Should().Be(0);
        metrics.Requests.Should().BeGreaterThan(8);
        metrics.Completed.Should().Be(metrics.Requests);
        run.Counters.Requests.Should().Be(metrics.Requests, "each request reached one server once");
        run.Counters.Completed.Should().Be(metrics.Requests);
        run.Counters.GeneratedTokens.Should().Be(run.Result.Requests.Sum(r => r.Tokens));
        metrics.TtftP50.Should().BePositive().And.BeLessThanOrEqualTo(metrics.TtftP99);
        metrics.EndToEndP95.Should().BeGreaterThanOrEqualTo(metrics.TtftP95);
        metrics.Goodput.Should().BePositive();
        metrics.Loads.Should().BeGreaterThanOrEqualTo(1);
        metrics.CacheHitRatio.Should().BeInRange(0.01, 1);
    }

    private static async Task<IFleetTarget> StartProxyAsync(SimFleet fleet)
    {
        var connections = fleet.Servers.Select((s, i) => $"s{(i + 1).ToString(CultureInfo.InvariantCulture)}={s.BaseUri}").ToArray();
        var proxies = fleet.Scenario.Models
            .SelectMany(m => fleet.Servers.Select((_, i) => $"{m.Name}=s{(i + 1).ToString(CultureInfo.InvariantCulture)}"))
            .ToArray();
        return new ProxyTarget(await ProxyUnderTest.StartAsync(proxies, connections));
    }

    private sealed class ProxyTarget(ProxyUnderTest proxy) : IFleetTarget
    {
        public Uri BaseUri => proxy.BaseUri;

        public ValueTask DisposeAsync() => proxy.DisposeAsync();
    }
}
