namespace Gollamas.Simulator.Workload;

/// <summary>One request as its client lived it (times simulated, from the workload's start).</summary>
public sealed record RequestRecord
{
    public required int User { get; init; }

    public required string Model { get; init; }

    public required bool Chat { get; init; }

    public required TimeSpan Sent { get; init; }

    /// <summary>When the first chunk with content arrived.</summary>
    public TimeSpan? FirstToken { get; init; }

    /// <summary>When the final chunk arrived.</summary>
    public TimeSpan? Done { get; init; }

    public int Status { get; init; }

    /// <summary>Why it failed (our words), or null.</summary>
    public string? Error { get; init; }

    /// <summary>Cut when the drain time ran out.</summary>
    public bool Cut { get; init; }

    /// <summary>Answer words received, and those received before the workload's end.</summary>
    public int Tokens { get; init; }

    public int TokensInTime { get; init; }

    public int PromptEvalCount { get; init; }

    public TimeSpan LoadDuration { get; init; }

    public TimeSpan? TimeToFirstToken => FirstToken - Sent;

    public TimeSpan? EndToEnd => Done - Sent;

    public bool Completed => Done is not null && Error is null;
}
