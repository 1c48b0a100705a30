namespace Gollamas.Diagnostics;

/// <summary>
/// What Ollama's final chunk of a generation says about it (<c>/api/generate</c>, <c>/api/chat</c>,
/// streamed or whole): durations in nanoseconds and token counts. Ollama writes them with Go's
/// <c>omitempty</c>, so a field it left out reads 0, the same as a zero it would have left out.
/// </summary>
/// <param name="TotalDuration"><c>total_duration</c>: the server's whole handling, its own wait for the model included.</param>
/// <param name="LoadDuration"><c>load_duration</c>: loading the model (a few milliseconds when it was loaded already).</param>
/// <param name="PromptEvalCount"><c>prompt_eval_count</c>: prompt tokens processed.</param>
/// <param name="PromptEvalDuration"><c>prompt_eval_duration</c>: processing them.</param>
/// <param name="EvalCount"><c>eval_count</c>: tokens generated.</param>
/// <param name="EvalDuration"><c>eval_duration</c>: generating them.</param>
internal readonly record struct GenerationStatistics(
    long TotalDuration,
    long LoadDuration,
    long PromptEvalCount,
    long PromptEvalDuration,
    long EvalCount,
    long EvalDuration)
{
    /// <summary>
    /// A <c>load_duration</c> above this (100 ms) counts as a cold load: the model was not loaded
    /// when the request reached the server. A warm request reports a few milliseconds (the runner
    /// is looked up and its options compared); the smallest real load takes several hundred.
    /// </summary>
    public const long ColdLoadNanoseconds = 100_000_000;

    /// <summary>Whether the final chunk carried any statistic (a load-only request, or one cut short, carries none).</summary>
    public bool IsPresent => TotalDuration > 0 || LoadDuration > 0 || PromptEvalCount > 0 || EvalCount > 0;

    /// <summary>Whether the model was loaded for this request: <see cref="LoadDuration"/> above <see cref="ColdLoadNanoseconds"/>.</summary>
    public bool IsColdLoad => LoadDuration > ColdLoadNanoseconds;

    /// <summary>Prompt tokens and the time they took, when both were reported: a sample of the prompt-processing rate.</summary>
    public bool HasPromptRate => PromptEvalCount > 0 && PromptEvalDuration > 0;

    /// <summary>Generated tokens and the time they took, when both were reported: a sample of the generation rate.</summary>
    public bool HasEvalRate => EvalCount > 0 && EvalDuration > 0;

    /// <summary>
    /// How long the request held a slot of the model's runner: processing the prompt plus
    /// generating, without the load and without any wait in the server's queue (nanoseconds).
    /// </summary>
    public long ServiceDuration => PromptEvalDuration + EvalDuration;

    /// <summary>Nanoseconds as seconds.</summary>
    public static double Seconds(long nanoseconds) => nanoseconds / 1_000_000_000d;
}
