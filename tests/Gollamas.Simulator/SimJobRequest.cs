namespace Gollamas.Simulator;

/// <summary>What a generate or chat request asks of the model, as the server reads it.</summary>
public sealed record SimJobRequest
{
    public required SimModel Model { get; init; }

    public SimJobKind Kind { get; init; } = SimJobKind.Generate;

    /// <summary>The rendered prompt's tokens (<see cref="SimTokens"/>).</summary>
    public int[] Prompt { get; init; } = [];

    /// <summary>Tokens to generate: <c>options.num_predict</c>, or the server's choice.</summary>
    public int OutputTokens { get; init; }

    /// <summary>Whether <see cref="OutputTokens"/> came from <c>num_predict</c> (then <c>done_reason</c> is <c>length</c>).</summary>
    public bool LimitedByRequest { get; init; }

    /// <summary><c>options.num_ctx</c>, or null for the server's default.</summary>
    public int? NumCtx { get; init; }

    /// <summary><c>keep_alive</c>: null when absent, negative for ever, zero to unload when idle.</summary>
    public TimeSpan? KeepAlive { get; init; }
}

public enum SimJobKind
{
    /// <summary>A prompt to answer.</summary>
    Generate,

    /// <summary>An empty prompt: load the model and answer <c>done_reason:"load"</c>.</summary>
    Load,

    /// <summary>An empty prompt with <c>keep_alive:0</c>: unload, <c>done_reason:"unload"</c>.</summary>
    Unload,
}
