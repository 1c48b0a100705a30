using Gollamas.Connections;

namespace Gollamas.Routing;

/// <summary>
/// Which of a model's servers a request tries next: the one where its first token is expected
/// soonest. For each route not tried yet whose server is not down or drained, the estimate (seconds) is
/// <list type="bullet">
/// <item>the wait for a slot there: the generations of this model the proxy has there beyond the
/// server's parallel slots (<c>--num-parallel</c>), each worth the observed service time divided
/// by the slots, and the proxy's own queue when <c>--max-concurrency</c> is full;</item>
/// <item>a load when the model is not loaded there (from <c>/api/ps</c> and the answers): the
/// observed <c>load_duration</c> of the model there, else elsewhere, else a default; one more
/// for each other model loading there for requests the proxy sent (a server loads one at a
/// time), else, when the server is busy with other models, one service time more (their memory
/// must be given up); none of that when requests of this model there are already waiting for
/// its load;</item>
/// <item>the prefill of the prompt (its size in bytes over four) at the observed prompt rate,
/// nearly none on the server the conversation last went to (<see cref="RouteRequest.Affine"/>):
/// one of its slots still holds the earlier turns;</item>
/// </list>
/// all divided by the server's weight (<c>--weight</c>). The estimates come from what the proxy
/// already sees: its own counts, <c>/api/ps</c>, and Ollama's final chunks
/// (<see cref="Connection.Statistics"/>); no request of its own. The least wins; routes within
/// <see cref="TieSeconds"/> or <see cref="TieRatio"/> of it are near-ties, and among those the
/// conversation's server wins, then one that has the model (loaded or loading) over one that
/// would load another copy, then the one with the fewest requests in flight, then the first in
/// turn from the request's rotation, so equal servers share the work. A server cooling down after fast failures
/// (<see cref="ConnectionHealth.IsCooling"/>) is taken only when nothing else is left.
/// </summary>
/// <remarks>
/// The failover loop in <c>ModelEndpoints</c> calls it once per attempt. It allocates nothing
/// once the model's <see cref="ModelActivity"/> exists on each server: it runs on every
/// model-addressed request with more than one route.
/// </remarks>
internal static class RouteSelector
{
    /// <summary>Estimates this close (seconds) are a tie.</summary>
    public const double TieSeconds = 0.05;

    /// <summary>Estimates within this fraction of the least are a tie.</summary>
    public const double TieRatio = 0.10;

    /// <summary>Service time assumed before any generation of the model reported one.</summary>
    public const double DefaultServiceSeconds = 4;

    /// <summary>Load time assumed before any load of the model was seen.</summary>
    public const double DefaultLoadSeconds = 8;

    /// <summary>Prompt tokens per second assumed before any generation of the model reported a rate.</summary>
    public const double DefaultPromptTokensPerSecond = 1000;

    /// <summary>The part of a load counted for each other model loaded on the server it would load on.</summary>
    public const double DisplacementShare = 0.5;

    // What a cooling server's estimate carries: beyond any real one.
    private const double CoolingPenalty = 1e9;

    // Tokens a turn adds to a conversation whose earlier turns are cached: its new message.
    private const int AffineUncachedTokens = 256;

    /// <summary>
    /// The route <paramref name="route"/>'s request tries next, marked in <paramref name="tried"/>
    /// (one bit per route, by declaration index); null when no route is left. With a single
    /// route, that one. <paramref name="estimates"/>, when not empty, receives each route's
    /// estimate by declaration index (NaN for routes passed over), for the debug log.
    /// </summary>
    public static Connection? Next(ModelRoute route, ref ulong tried, int rotation, in RouteRequest request, Span<double> estimates = default)
    {
        var connections = route.Connections;
        var count = route.RouteCount;
        if (count == 1)
        {
            if ((tried & 1UL) != 0 || !connections[0].Health.IsAvailable)
            {
                return null;
            }

            tried |= 1UL;
            return connections[0];
        }

        var fleet = FleetFacts.Of(route);
        Span<double> own = stackalloc double[ModelRoute.MaxRoutes];
        own = own[..count];
        var least = double.PositiveInfinity;
        for (var index = 0; index < count; index++)
        {
            var connection = connections[index];
            if ((tried & (1UL << index)) != 0 || !connection.Health.IsAvailable)
            {
                own[index] = double.NaN;
                continue;
            }

            var estimate = Estimate(route, connection, request, fleet);
            if (!route.IsRunning)
            {
                connection.Activity(route.Canonical).RecordEstimate(estimate);
            }

            if (connection.Health.IsCooling(request.Now))
            {
                estimate += CoolingPenalty;
            }

            own[index] = estimate;
            least = Math.Min(least, estimate);
        }

        if (!estimates.IsEmpty)
        {
            own.CopyTo(estimates);
        }

        if (double.IsPositiveInfinity(least))
        {
            return null;
        }

        // Among the near-ties, the conversation's server, then one that has the model (loaded, or
        // loading for requests already sent there) over one that would load another copy of it,
        // then the fewest in flight, then the first in turn. The remainder first: rotation + step would overflow when
        // rotation is int.MaxValue.
        var bound = least + Math.Max(TieSeconds, least * TieRatio);
        var best = -1;
        var bestHas = false;
        var bestInFlight = int.MaxValue;
        var start = rotation % count;
        for (var step = 0; step < count; step++)
        {
            var index = start + step < count ? start + step : start + step - count;
            if (double.IsNaN(own[index]) || own[index] > bound)
            {
                continue;
            }

            var connection = connections[index];
            if (ReferenceEquals(connection, request.Affine))
            {
                best = index; // its cache holds the conversation: a tie goes to it
                break;
            }

            var has = HasModel(route, connection);
            var inFlight = connection.InFlight;
            if ((has && !bestHas) || (has == bestHas && inFlight < bestInFlight))
            {
                best = index;
                bestHas = has;
                bestInFlight = inFlight;
            }
        }

        tried |= 1UL << best;
        return connections[best];
    }

    // Whether the server has the model or is loading it: no new copy would be made there.
    private static bool HasModel(ModelRoute route, Connection connection) =>
        connection.Health.IsLoaded(route.Canonical) || (!route.IsRunning && connection.Activity(route.Canonical).Generations > 0);

    /// <summary>The expected time to first token of <paramref name="request"/> on <paramref name="connection"/>, in seconds.</summary>
    internal static double Estimate(ModelRoute route, Connection connection, in RouteRequest request, in FleetFacts fleet)
    {
        connection.Statistics.TryGet(route.Canonical, out var known);
        var service = known.ServiceSeconds ?? fleet.ServiceSeconds;
        var slots = route.SlotsOf(connection);
        var total = connection.InFlight;
        var ahead = route.IsRunning ? total : connection.Activity(route.Canonical).Generations;

        // Past the server's slots, each request ahead holds one for a service time: with S
        // slots, one frees every service/S on average.
        var wait = ahead < slots ? 0 : (ahead - slots + 1) * service / slots;
        var gate = connection.Gate;
        if (!gate.HasFreeSlot)
        {
            wait += (gate.Waiting + 1) * service / Math.Max(gate.Limit, 1);
        }

        var load = 0.0;
        var loaded = connection.Health.IsLoaded(route.Canonical);
        var activity = route.IsRunning ? null : connection.Activity(route.Canonical);
        if (loaded)
        {
            // /api/ps shows it loaded: a load counted as pending there is over.
            activity?.Loaded();
        }
        else if (activity is { Generations: > 0 })
        {
            // Not listed as loaded, but generations of it are running there: it is loading (or
            // loaded since /api/ps was read). Those ahead wait for the same load: no room to make
            // again, no second copy.
            load = known.LoadSeconds ?? fleet.LoadSeconds;
        }
        else
        {
            var loadSeconds = known.LoadSeconds ?? fleet.LoadSeconds;
            load = loadSeconds;

            // A server loads one model at a time: other models loading there go first. Else,
            // busy with other models: their memory is not free to load this one into at once.
            var loadingAhead = connection.ModelsLoading;
            if (loadingAhead > 0)
            {
                load += loadingAhead * loadSeconds;
            }
            else if (total > ahead)
            {
                load += service;
            }

            // Each model loaded there may have to make room for this one, and be loaded again
            // later, somewhere: a load onto a full server costs more than its own time. Half a
            // load each: how often one really goes is not known (memory is not reported).
            load += DisplacementShare * loadSeconds * connection.Health.LoadedCount;
        }

        var tokens = ReferenceEquals(request.Affine, connection) ? Math.Min(request.PromptTokens, AffineUncachedTokens) : request.PromptTokens;
        var prefill = tokens / (known.PromptTokensPerSecond is > 0 and var rate ? rate : fleet.PromptTokensPerSecond);
        return (wait + load + prefill) / route.WeightOf(connection);
    }

    /// <summary>
    /// What the model's servers together have observed: the fallback for a server that has not
    /// served it yet (its load time there is likely what it is elsewhere).
    /// </summary>
    internal readonly record struct FleetFacts(double ServiceSeconds, double LoadSeconds, double PromptTokensPerSecond)
    {
        public static FleetFacts Of(ModelRoute route)
        {
            double service = 0, load = 0, rate = 0;
            int services = 0, loads = 0, rates = 0;
            foreach (var connection in route.Connections)
            {
                if (!connection.Statistics.TryGet(route.Canonical, out var known))
                {
                    continue;
                }

                if (known.ServiceSeconds is { } s)
                {
                    service += s;
                    services++;
                }

                if (known.LoadSeconds is { } l)
                {
                    load += l;
                    loads++;
                }

                if (known.PromptTokensPerSecond is > 0 and var r)
                {
                    rate += r;
                    rates++;
                }
            }

            return new FleetFacts(
                services > 0 ? service / services : DefaultServiceSeconds,
                loads > 0 ? load / loads : DefaultLoadSeconds,
                rates > 0 ? rate / rates : DefaultPromptTokensPerSecond);
        }
    }
}
