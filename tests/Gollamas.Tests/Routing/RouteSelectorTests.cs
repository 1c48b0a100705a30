using Gollamas.Bodies;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Routing;

namespace Gollamas.Tests.Routing;

/// <summary>
/// <see cref="RouteSelector"/> on its own, over real <see cref="Connection"/>s that are never
/// connected to: the route with the least expected time to first token wins (a wait for a slot,
/// a load, the prompt's prefill, over the server's weight); near-ties go to the fewest in flight,
/// then in turn from the rotation; a down or tried route never, a cooling one last.
/// </summary>
public sealed class RouteSelectorTests : IDisposable
{
    private static readonly RouteRequest s_small = new(PromptTokens: 10, Affine: null, Now: 0);

    private readonly List<Connection> _connections = [];

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
    }

    [Fact]
    public void Next_ServerMarkedDown_NeverChosenEvenIfBestOnEveryOtherCount()
    {
        var route = NewRoute(2);
        var (down, up) = (route.Connections[0], route.Connections[1]);
        down.Health.MarkLoaded(route.Canonical);
        down.Health.RecordFailure().Should().BeTrue("one failure marks a server down here");
        Generations(route, up, 5);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(up);
        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeNull("the only other route is down");
    }

    [Fact]
    public void Next_RouteAlreadyTried_NotChosenAgainAndMarkedWhenChosen()
    {
        var route = NewRoute(2);
        var (first, second) = (route.Connections[0], route.Connections[1]);
        second.Health.MarkLoaded(route.Canonical);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(second);
        tried.Should().Be(0b10UL);
        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(first, "the loaded one was tried already");
        tried.Should().Be(0b11UL);
        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeNull();
        tried.Should().Be(0b11UL, "nothing is marked when nothing is chosen");
    }

    [Fact]
    public void Next_ModelLoadedWithAFreeSlot_WinsOverAColdServer_EvenABusierOne()
    {
        var route = NewRoute(2, numParallel: 2);
        var (cold, loaded) = (route.Connections[0], route.Connections[1]);
        loaded.Health.MarkLoaded(route.Canonical);
        Generations(route, loaded, 1);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(loaded);
        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(cold);
    }

    [Fact]
    public void Next_ResidencyIsNotOccupancy_ALoadedServerWhoseQueueOutlastsALoad_LosesToAnIdleColdOne()
    {
        // Defaults: a service takes 4 s, a load 8 s. Three ahead on one slot: 12 s of waiting.
        var route = NewRoute(2);
        var (cold, loaded) = (route.Connections[0], route.Connections[1]);
        loaded.Health.MarkLoaded(route.Canonical);
        Generations(route, loaded, 3);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(cold);
    }

    [Fact]
    public void Next_ALoadedServerWhoseQueueIsShorterThanALoad_KeepsTheModel()
    {
        var route = NewRoute(2);
        var (cold, loaded) = (route.Connections[0], route.Connections[1]);
        loaded.Health.MarkLoaded(route.Canonical);
        Generations(route, loaded, 1);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(loaded, "one ahead on one slot is 4 s, a load 8 s");
        cold.Should().NotBeNull();
    }

    [Fact]
    public void Next_ObservedStatistics_ReplaceTheDefaults_AndALoadSeenElsewhereCountsForAServerThatNeverLoadedTheModel()
    {
        var route = NewRoute(2);
        var (cold, loaded) = (route.Connections[0], route.Connections[1]);
        loaded.Health.MarkLoaded(route.Canonical);

        // On 'loaded': a load of 1 s, a service of 3 s.
        loaded.Statistics.Record(route.Canonical, isRunning: false, new GenerationStatistics(4_000_000_000, 1_000_000_000, 100, 1_000_000_000, 50, 2_000_000_000), null, 1);
        Generations(route, loaded, 1);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(cold, "a 1 s load there beats a 3 s wait here");
    }

    [Fact]
    public void Next_ALoadGoesWhereFewerModelsWouldMakeRoom()
    {
        var route = NewRoute(2);
        var (full, empty) = (route.Connections[0], route.Connections[1]);
        full.Health.SetLoaded(["registry.ollama.ai/library/qwen3:8b", "registry.ollama.ai/library/phi4:latest"]);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(empty, "a load there evicts nothing");
    }

    [Fact]
    public async Task Next_AFullGateAddsItsQueueToTheWait()
    {
        var route = NewRoute(2, numParallel: 4, concurrencyLimit: 1);
        var (first, second) = (route.Connections[0], route.Connections[1]);
        first.Health.MarkLoaded(route.Canonical);
        second.Health.MarkLoaded(route.Canonical);
        (await first.Gate.EnterAsync(TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None)).Should().Be(GateResult.Entered);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(second);
    }

    [Fact]
    public void Next_TheConversationsServer_WinsOnALongPrompt_ItHasTheEarlierTurnsCached()
    {
        var route = NewRoute(2, numParallel: 2);
        var (other, affine) = (route.Connections[0], route.Connections[1]);
        other.Health.MarkLoaded(route.Canonical);
        affine.Health.MarkLoaded(route.Canonical);
        Generations(route, affine, 1);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, new RouteRequest(PromptTokens: 8000, Affine: affine, Now: 0)).Should().BeSameAs(affine);

        tried = 0UL;
        RouteSelector.Next(route, ref tried, rotation: 0, new RouteRequest(PromptTokens: 8000, Affine: null, Now: 0)).Should().BeSameAs(other, "without the cache, the idle one is as good and less busy");
    }

    [Fact]
    public void Next_AHeavierServer_CountsItsTimesShorter()
    {
        var route = NewRoute(2, weights: new() { ["s1"] = 3000 });
        var (light, heavy) = (route.Connections[0], route.Connections[1]);
        light.Health.MarkLoaded(route.Canonical);
        heavy.Health.MarkLoaded(route.Canonical);
        Generations(route, light, 1);
        Generations(route, heavy, 2);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(heavy, "8 s of waiting over a weight of 3 beats 4 s over 1");
    }

    [Fact]
    public void Next_ACoolingServer_IsPassedOver_UnlessNothingElseIsLeft()
    {
        var route = NewRoute(2);
        var (cooling, other) = (route.Connections[0], route.Connections[1]);
        cooling.Health.MarkLoaded(route.Canonical);
        Generations(route, other, 5);
        cooling.Health.RecordRequestFailure(now: 100, ticksPerSecond: 1000);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small with { Now = 500 }).Should().BeSameAs(other);
        RouteSelector.Next(route, ref tried, rotation: 0, s_small with { Now = 500 }).Should().BeSameAs(cooling, "the only route left");

        tried = 0UL;
        RouteSelector.Next(route, ref tried, rotation: 0, s_small with { Now = 1100 }).Should().BeSameAs(cooling, "the first cooldown is one second");
    }

    [Fact]
    public void Cooldown_GrowsWhileFailing_AndEndsOnASuccess()
    {
        var health = new ConnectionHealth(failuresBeforeDown: 100);
        health.RecordRequestFailure(now: 0, ticksPerSecond: 1000);
        health.IsCooling(999).Should().BeTrue();
        health.IsCooling(1000).Should().BeFalse();

        health.RecordRequestFailure(now: 1000, ticksPerSecond: 1000);
        health.IsCooling(2999).Should().BeTrue("the second failure in a row cools for 2 s");

        for (var i = 0; i < 20; i++)
        {
            health.RecordRequestFailure(now: 0, ticksPerSecond: 1000);
        }

        health.IsCooling(29_999).Should().BeTrue();
        health.IsCooling(30_000).Should().BeFalse("30 s at most");

        health.RecordRequestSuccess();
        health.IsCooling(1).Should().BeFalse();
        health.RecordRequestFailure(now: 0, ticksPerSecond: 1000);
        health.IsCooling(1000).Should().BeFalse("after a success the next failure starts again from 1 s");
    }

    [Fact]
    public void Next_NearTies_GoToTheFewestInFlight()
    {
        var route = NewRoute(3);
        var (first, second, third) = (route.Connections[0], route.Connections[1], route.Connections[2]);
        Busy(first, 2);
        Busy(second, 1);
        Busy(third, 3);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(second);
        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(first);
        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(third);
    }

    [Theory]
    [InlineData(0, new[] { 0, 1, 2 })]
    [InlineData(1, new[] { 1, 2, 0 })]
    [InlineData(2, new[] { 2, 0, 1 })]
    [InlineData(3, new[] { 0, 1, 2 })]
    public void Next_EqualRoutes_DeclarationOrderFromTheRotation(int rotation, int[] expected)
    {
        var route = NewRoute(3);
        var tried = 0UL;

        var chosen = new List<Connection?>();
        for (var i = 0; i <= expected.Length; i++)
        {
            chosen.Add(RouteSelector.Next(route, ref tried, rotation, s_small));
        }

        chosen.Should().Equal([.. expected.Select(i => route.Connections[i]), null]);
    }

    [Fact]
    public void Next_RotationAtIntMaxValue_SameOrderAsItsRemainder()
    {
        // ModelRoute.NextRotation masks a wrapping counter with int.MaxValue: once every 2^31
        // requests the rotation is int.MaxValue itself, and rotation + step must not overflow.
        var route = NewRoute(3);
        var tried = 0UL;

        var chosen = new List<Connection?>();
        for (var i = 0; i < 4; i++)
        {
            chosen.Add(RouteSelector.Next(route, ref tried, int.MaxValue, s_small));
        }

        // int.MaxValue % 3 == 1.
        chosen.Should().Equal(route.Connections[1], route.Connections[2], route.Connections[0], null);
    }

    [Fact]
    public async Task Next_OnlyRoute_ChosenWhateverItsLoad()
    {
        var route = NewRoute(1, concurrencyLimit: 1);
        (await route.Connections[0].Gate.EnterAsync(TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None)).Should().Be(GateResult.Entered);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeSameAs(route.Connections[0]);
        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeNull();
    }

    [Fact]
    public void Next_RoutesBeyondTheMaximum_NeverChosen()
    {
        var route = NewRoute(ModelRoute.MaxRoutes + 1);
        for (var i = 0; i < ModelRoute.MaxRoutes; i++)
        {
            route.Connections[i].Health.RecordFailure();
        }

        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small).Should().BeNull("the one route left up is past the last that fits in the tried set");
    }

    [Fact]
    public void Next_NearTie_GoesWhereTheModelIsLoadingRatherThanLoadingASecondCopy()
    {
        // The first request for a cold model went to s0, which loads it; the second finds s0 as
        // good as the idle s1 (one load either way) and must not start a second copy on s1.
        var route = NewRoute(2, numParallel: 2);
        var (loading, idle) = (route.Connections[0], route.Connections[1]);
        loading.Activity(route.Canonical).Start(loaded: false);
        loading.OnRequestStarted();
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 1, s_small).Should().BeSameAs(loading, "the fewest in flight decides only among servers equal in this");
        loading.ModelsLoading.Should().Be(1);
        idle.ModelsLoading.Should().Be(0);
    }

    [Fact]
    public void Next_AnotherModelLoadingThere_ItsLoadGoesFirst_SoAnIdleServerWins()
    {
        // Known: this model loads in 8 s and serves in 0.5 s. s0 is loading another model (a
        // server loads one at a time), s1 has another model loaded and idle (half a load to
        // make room): 8 + 8 there against 8 + 4 here.
        var route = NewRoute(2);
        var (busyLoading, holding) = (route.Connections[0], route.Connections[1]);
        foreach (var connection in route.Connections)
        {
            connection.Statistics.Record(route.Canonical, isRunning: false, new GenerationStatistics(8_500_000_000, 8_000_000_000, 100, 100_000_000, 50, 400_000_000), null, 1);
        }

        busyLoading.Activity("other:latest").Start(loaded: false);
        busyLoading.OnRequestStarted();
        holding.Health.MarkLoaded("another:latest");
        Span<double> estimates = stackalloc double[2];
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small, estimates).Should().BeSameAs(holding);
        estimates[0].Should().BeGreaterThan(16, "its own load waits for the other one's");
    }

    [Fact]
    public void Next_NearTie_GoesToTheConversationsServer()
    {
        // Both idle and loaded; the conversation's server is busier but within the tie.
        var route = NewRoute(2, numParallel: 4);
        var (affine, other) = (route.Connections[0], route.Connections[1]);
        affine.Health.MarkLoaded(route.Canonical);
        other.Health.MarkLoaded(route.Canonical);
        Generations(route, affine, 1);
        var request = new RouteRequest(PromptTokens: 10, Affine: affine, Now: 0);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 1, request).Should().BeSameAs(affine);
    }

    [Fact]
    public void Activity_LoadEndsWithTheFirstGenerationOrWhenSeenLoaded()
    {
        var route = NewRoute(1);
        var connection = route.Connections[0];
        var first = connection.Activity("a:latest");
        var second = connection.Activity("b:latest");

        first.Start(loaded: false);
        first.Start(loaded: false);
        second.Start(loaded: false);
        connection.ModelsLoading.Should().Be(2);
        first.IsLoading.Should().BeTrue();

        first.End();
        connection.ModelsLoading.Should().Be(1, "a generation that ended waited for its load");
        second.Loaded();
        second.Loaded();
        connection.ModelsLoading.Should().Be(0, "counted once");
        second.End();
        connection.ModelsLoading.Should().Be(0);
    }

    [Fact]
    public void Next_WritesEachRoutesEstimate_ForTheDebugLine()
    {
        var route = NewRoute(2);
        route.Connections[1].Health.MarkLoaded(route.Canonical);
        route.Connections[0].Health.RecordFailure();
        Span<double> estimates = stackalloc double[2];
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0, s_small, estimates);

        double.IsNaN(estimates[0]).Should().BeTrue("a down route has no estimate");
        estimates[1].Should().BeApproximately(0.01, 1e-9, "loaded, idle: only the prefill of 10 tokens at 1000 a second");
        route.Connections[1].Activity(route.Canonical).LastEstimateSeconds.Should().BeApproximately(0.01, 1e-6);
    }

    private ModelRoute NewRoute(int servers, int numParallel = 1, int concurrencyLimit = 0, Dictionary<string, int>? weights = null)
    {
        var settings = new ConnectionSettings { FailuresBeforeDown = 1, ConcurrencyLimit = concurrencyLimit, QueueLength = 4 };
        var connections = new Connection[servers];
        for (var i = 0; i < servers; i++)
        {
            // Port 9 (discard): nothing here connects, the address only has to be well formed.
            var config = new ConnectionConfig($"s{i}", new Uri($"http://127.0.0.{i + 1}:9/"), IsExplicit: true);
            connections[i] = new Connection(config, settings, position: i + 1);
            _connections.Add(connections[i]);
        }

        ModelName.TryParse("llama3.2", out var parsed).Should().BeTrue();
        return new ModelRoute("llama3.2", parsed, connections, [], RequestDefaults.None)
        {
            Routing = new RoutingOptions { DefaultNumParallel = numParallel, WeightThousandths = weights ?? [] },
        };
    }

    private static void Generations(ModelRoute route, Connection connection, int count)
    {
        for (var i = 0; i < count; i++)
        {
            connection.Activity(route.Canonical).Start();
            connection.OnRequestStarted();
        }
    }

    private static void Busy(Connection connection, int inFlight)
    {
        for (var i = 0; i < inFlight; i++)
        {
            connection.OnRequestStarted();
        }
    }
}
