using Gollamas.Connections;

namespace Gollamas.Routing;

/// <summary>
/// Which of a model's servers a request tries next. Among the routes the request has not tried
/// yet and whose server is not marked down, in this order of precedence:
/// <list type="number">
/// <item>a free slot: a route where the request would not queue behind the server's limit;</item>
/// <item>the model loaded: a cold model costs seconds to minutes of loading, which outweighs any
/// number in flight (only asked when the model has more than one route);</item>
/// <item>the fewest requests in flight;</item>
/// <item>declaration order, starting at the request's rotation, so equal routes take turns.</item>
/// </list>
/// The failover loop in <c>ModelEndpoints</c> calls it once per attempt. It allocates nothing:
/// it runs on every model-addressed request.
/// </summary>
internal static class RouteSelector
{
    // The levels as one number, the lowest wins: each level's weight is beyond the sum of all the
    // levels below it (in-flight counts are ints, below 2^31).
    private const long QueuesWeight = 1L << 40;
    private const long ColdWeight = 1L << 32;

    /// <summary>
    /// The route <paramref name="route"/>'s request tries next, marked in <paramref name="tried"/>
    /// (one bit per route, by declaration index); null when no route is left. Ties go to the
    /// first in declaration order counted from <paramref name="rotation"/> (not negative).
    /// </summary>
    public static Connection? Next(ModelRoute route, ref ulong tried, int rotation)
    {
        var connections = route.Connections;
        var count = route.RouteCount;
        var preferLoaded = count > 1;
        var best = -1;
        var bestRank = long.MaxValue;

        // The remainder first: rotation + step would overflow when rotation is int.MaxValue.
        var start = rotation % count;
        for (var step = 0; step < count; step++)
        {
            var index = start + step < count ? start + step : start + step - count;
            var connection = connections[index];
            if ((tried & (1UL << index)) != 0 || connection.Health.IsDown)
            {
                continue;
            }

            // Strictly lower only: among equals the first in rotation order stays.
            var rank = Rank(connection, preferLoaded, route.Canonical);
            if (rank < bestRank)
            {
                best = index;
                bestRank = rank;
            }
        }

        if (best < 0)
        {
            return null;
        }

        tried |= 1UL << best;
        return connections[best];
    }

    private static long Rank(Connection connection, bool preferLoaded, string canonicalModel) =>
        (connection.Gate.HasFreeSlot ? 0L : QueuesWeight)
        + (preferLoaded && connection.Health.IsLoaded(canonicalModel) ? 0L : ColdWeight)
        + connection.InFlight;
}
