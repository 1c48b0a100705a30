namespace Gollamas.Simulator;

/// <summary>What one server (or a fleet, added up) did; a copy, taken at one instant.</summary>
public sealed record SimCounters
{
    /// <summary>Generate and chat requests that arrived, 503s included.</summary>
    public long Requests { get; init; }

    /// <summary>Requests that ran to their last token.</summary>
    public long Completed { get; init; }

    /// <summary>Models loaded from disk (cold loads, reloads included).</summary>
    public long Loads { get; init; }

    /// <summary>Idle models unloaded to make room for another.</summary>
    public long Evictions { get; init; }

    /// <summary>Models unloaded because a request asked for another <c>num_ctx</c>.</summary>
    public long Reloads { get; init; }

    /// <summary>Models unloaded when their keep-alive ran out (or was 0).</summary>
    public long Expiries { get; init; }

    /// <summary>Answers of 503 "server busy" (the queue was full).</summary>
    public long Busy { get; init; }

    /// <summary>Prompt tokens of the requests that reached a slot.</summary>
    public long PromptTokens { get; init; }

    /// <summary>Of those, the tokens a slot's cache already held (not evaluated again).</summary>
    public long CachedPromptTokens { get; init; }

    /// <summary>Tokens generated, by requests that completed or were cancelled.</summary>
    public long GeneratedTokens { get; init; }

    /// <summary>Cached prompt tokens over all prompt tokens; 0 with no prompt.</summary>
    public double CacheHitRatio => PromptTokens == 0 ? 0 : (double)CachedPromptTokens / PromptTokens;

    public static SimCounters operator +(SimCounters left, SimCounters right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new SimCounters
        {
            Requests = left.Requests + right.Requests,
            Completed = left.Completed + right.Completed,
            Loads = left.Loads + right.Loads,
            Evictions = left.Evictions + right.Evictions,
            Reloads = left.Reloads + right.Reloads,
            Expiries = left.Expiries + right.Expiries,
            Busy = left.Busy + right.Busy,
            PromptTokens = left.PromptTokens + right.PromptTokens,
            CachedPromptTokens = left.CachedPromptTokens + right.CachedPromptTokens,
            GeneratedTokens = left.GeneratedTokens + right.GeneratedTokens,
        };
    }

    public static SimCounters Add(SimCounters left, SimCounters right) => left + right;
}
