namespace Gollamas.Connections;

/// <summary>
/// What the generations of one model on one connection said, as <see cref="ModelStatistics"/>
/// last estimated it: counts, and recent estimates (null until a generation gave a sample).
/// </summary>
/// <param name="Generations">Generations whose final chunk carried Ollama's statistics.</param>
/// <param name="ColdLoads">Those whose <c>load_duration</c> said the model was loaded for them.</param>
/// <param name="LoadSeconds">A recent estimate of a cold load's time.</param>
/// <param name="PromptTokensPerSecond">A recent estimate of the prompt-processing rate.</param>
/// <param name="EvalTokensPerSecond">A recent estimate of the generation rate.</param>
/// <param name="ServiceSeconds">A recent estimate of how long a generation holds a slot (prompt plus generation, no load, no wait).</param>
/// <param name="TimeToFirstTokenSeconds">A recent estimate of the time to first token of streamed generations, as the proxy saw it.</param>
/// <param name="LastUpdated">When a generation last updated it (Stopwatch ticks).</param>
internal readonly record struct ModelStatisticsSnapshot(
    long Generations,
    long ColdLoads,
    double? LoadSeconds,
    double? PromptTokensPerSecond,
    double? EvalTokensPerSecond,
    double? ServiceSeconds,
    double? TimeToFirstTokenSeconds,
    long LastUpdated);
