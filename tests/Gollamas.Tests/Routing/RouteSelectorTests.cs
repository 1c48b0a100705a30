using Gollamas.Bodies;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Routing;

namespace Gollamas.Tests.Routing;

/// <summary>
/// <see cref="RouteSelector"/> on its own, over real <see cref="Connection"/>s that are never
/// connected to: each level of its order wins over every level below it, even when the loser is
/// better on all of those. The levels: up before down (and untried before tried), a free slot,
/// the model loaded, the fewest in flight, declaration order from the rotation.
/// </summary>
public sealed class RouteSelectorTests : IDisposable
{
    private readonly List<Connection> _connections = [];

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
    }

    [Fact]
    public async Task Next_ServerMarkedDown_NeverChosenEvenIfBestOnEveryOtherLevel()
    {
        var route = NewRoute(2);
        var (down, up) = (route.Connections[0], route.Connections[1]);
        down.Health.MarkLoaded(route.Canonical);
        down.Health.RecordFailure().Should().BeTrue("one failure marks a server down here");
        await OccupyAsync(up);
        Busy(up, 5);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(up);
        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeNull("the only other route is down");
    }

    [Fact]
    public void Next_RouteAlreadyTried_NotChosenAgainAndMarkedWhenChosen()
    {
        var route = NewRoute(2);
        var (first, second) = (route.Connections[0], route.Connections[1]);
        second.Health.MarkLoaded(route.Canonical);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(second);
        tried.Should().Be(0b10UL);
        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(first, "the loaded one was tried already");
        tried.Should().Be(0b11UL);
        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeNull();
        tried.Should().Be(0b11UL, "nothing is marked when nothing is chosen");
    }

    [Fact]
    public async Task Next_FreeSlot_WinsOverModelLoadedFewerInFlightAndDeclarationOrder()
    {
        var route = NewRoute(2);
        var (full, free) = (route.Connections[0], route.Connections[1]);
        await OccupyAsync(full);
        full.Health.MarkLoaded(route.Canonical);
        Busy(free, 5);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(free);
        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(full, "a route without a free slot is still tried: the request waits in its line");
    }

    [Fact]
    public void Next_ModelLoaded_WinsOverFewerInFlightAndDeclarationOrder()
    {
        var route = NewRoute(2);
        var (cold, loaded) = (route.Connections[0], route.Connections[1]);
        loaded.Health.MarkLoaded(route.Canonical);
        Busy(loaded, 10);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(loaded);
        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(cold);
    }

    [Fact]
    public void Next_ModelLoadedUnderAnotherSpelling_CountsAsLoaded()
    {
        var route = NewRoute(2);
        route.Connections[1].Health.MarkLoaded(route.Canonical.ToUpperInvariant());
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(route.Connections[1], "canonical names compare case-insensitively");
    }

    [Fact]
    public void Next_FewerInFlight_WinsOverDeclarationOrder()
    {
        var route = NewRoute(3);
        var (first, second, third) = (route.Connections[0], route.Connections[1], route.Connections[2]);
        Busy(first, 2);
        Busy(second, 1);
        Busy(third, 3);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(second);
        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(first);
        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(third);
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
            chosen.Add(RouteSelector.Next(route, ref tried, rotation));
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
            chosen.Add(RouteSelector.Next(route, ref tried, int.MaxValue));
        }

        // int.MaxValue % 3 == 1.
        chosen.Should().Equal(route.Connections[1], route.Connections[2], route.Connections[0], null);
    }

    [Fact]
    public async Task Next_OnlyRoute_ChosenWithoutAFreeSlot()
    {
        var route = NewRoute(1);
        await OccupyAsync(route.Connections[0]);
        var tried = 0UL;

        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeSameAs(route.Connections[0]);
        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeNull();
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

        RouteSelector.Next(route, ref tried, rotation: 0).Should().BeNull("the one route left up is past the last that fits in the tried set");
    }

    private ModelRoute NewRoute(int servers)
    {
        var settings = new ConnectionSettings { FailuresBeforeDown = 1, ConcurrencyLimit = 1, QueueLength = 4 };
        var connections = new Connection[servers];
        for (var i = 0; i < servers; i++)
        {
            // Port 9 (discard): nothing here connects, the address only has to be well formed.
            var config = new ConnectionConfig($"s{i}", new Uri($"http://127.0.0.{i + 1}:9/"), IsExplicit: true);
            connections[i] = new Connection(config, settings, position: i + 1);
            _connections.Add(connections[i]);
        }

        ModelName.TryParse("llama3.2", out var parsed).Should().BeTrue();
        return new ModelRoute("llama3.2", parsed, connections, [], RequestDefaults.None);
    }

    /// <summary>Takes the server's one slot, so a request there would queue.</summary>
    private static async Task OccupyAsync(Connection connection)
    {
        var entered = await connection.Gate.EnterAsync(TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None);
        entered.Should().Be(GateResult.Entered);
        connection.Gate.HasFreeSlot.Should().BeFalse();
    }

    private static void Busy(Connection connection, int inFlight)
    {
        for (var i = 0; i < inFlight; i++)
        {
            connection.OnRequestStarted();
        }
    }
}
