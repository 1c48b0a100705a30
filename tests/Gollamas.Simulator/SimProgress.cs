namespace Gollamas.Simulator;

/// <summary>One step of a request as the server's model lives it, for the HTTP side to write.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Tokens">For <see cref="SimProgressKind.Tokens"/>: how many more answer words are out.</param>
/// <param name="Result">For <see cref="SimProgressKind.Done"/>: the final chunk's statistics.</param>
public readonly record struct SimProgress(SimProgressKind Kind, int Tokens, SimResult? Result);

public enum SimProgressKind
{
    Tokens,
    Done,

    /// <summary>Refused before it started: the queue is full (503).</summary>
    Busy,

    /// <summary>Refused: the model is larger than the server's memory (500).</summary>
    TooLarge,
}

/// <summary>The statistics of Ollama's final chunk (durations as Ollama measures them).</summary>
public sealed record SimResult
{
    public required string DoneReason { get; init; }

    /// <summary>Arrival to the last token.</summary>
    public TimeSpan TotalDuration { get; init; }

    /// <summary>Arrival until the scheduler handed over a loaded model (the cold load, and any wait for room).</summary>
    public TimeSpan LoadDuration { get; init; }

    /// <summary>Prompt tokens evaluated (those a slot had cached are not).</summary>
    public int PromptEvalCount { get; init; }

    public TimeSpan PromptEvalDuration { get; init; }

    public int EvalCount { get; init; }

    public TimeSpan EvalDuration { get; init; }
}
