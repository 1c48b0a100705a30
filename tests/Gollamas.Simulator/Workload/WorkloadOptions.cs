namespace Gollamas.Simulator.Workload;

/// <summary>The seeded load: who asks what, and when (all times simulated).</summary>
public sealed record WorkloadOptions
{
    public int Seed { get; init; } = 1;

    public int Users { get; init; } = 24;

    /// <summary>No request starts after this; goodput counts the tokens that arrived before it.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>After <see cref="Duration"/>, requests in flight get this long to finish; the rest are cut.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The model names, the most popular first before the seed shuffles them.</summary>
    public required IReadOnlyList<string> Models { get; init; }

    /// <summary>Popularity of the k-th model (in the seed's order) is 1/k^s.</summary>
    public double ZipfExponent { get; init; } = 1.0;

    /// <summary>Share of sessions that are one generation (<c>/api/generate</c>) rather than a chat.</summary>
    public double OneShotShare { get; init; } = 0.2;

    /// <summary>Users start at a uniform time within this.</summary>
    public TimeSpan StartSpread { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Mean think time between the turns of a chat (exponential, capped at 4 times).</summary>
    public TimeSpan MeanThinkTime { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>Mean pause between two sessions of a user.</summary>
    public TimeSpan MeanSessionGap { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>A chat ends when its history passes this many words (within Ollama's default context).</summary>
    public int MaxHistoryWords { get; init; } = 3000;
}
