using System.Collections.Concurrent;
using Gollamas.Diagnostics;

namespace Gollamas.Connections;

/// <summary>
/// What the generations a connection served said about each model there: how long a cold load
/// takes, how fast prompts are processed and tokens generated, how long a generation holds a slot,
/// the time to first token; for a route choice to estimate what a request would wait. Observed
/// values only (Ollama's final chunks and the proxy's own clock), never a request of its own.
/// </summary>
/// <remarks>
/// Owned by its <see cref="Connection"/>, so it lives as long as the connection does, across
/// reloads that keep it. Keyed by the route's canonical model name (as
/// <see cref="ConnectionHealth.IsLoaded"/> is), and bounded: a configured model always has its
/// entry, a model routed because it runs (<c>--allow-running</c>) only while fewer than
/// <see cref="MaxRunningModels"/> have one. Written once per generation, at its end, under one
/// short lock of that model's entry; read the same way.
/// Each estimate is an exponentially weighted moving average with weight <see cref="Weight"/>:
/// the newest generation counts for a fifth, and a generation's weight halves about every three
/// after it, so the estimate follows a change (another GPU, another quantisation, a context
/// that grew) within a few requests and one odd request moves it little. A rate is the ratio
/// of two such averages, of tokens and of seconds, so each generation weighs by its length: a
/// prompt of a few tokens (the rest cached) barely moves the prompt rate.
/// </remarks>
internal sealed class ModelStatistics
{
    /// <summary>The weight of the newest sample in every estimate.</summary>
    public const double Weight = 0.2;

    /// <summary>Models routed because they run that get an entry; the ones after are not kept.</summary>
    public const int MaxRunningModels = 100;

    private readonly ConcurrentDictionary<string, Entry> _models = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _adding = new();
    private Entry? _last;
    private int _running;

    /// <summary>How many models have an entry.</summary>
    public int Count => _models.Count;

    /// <summary>
    /// Takes one generation's end: what its final chunk said and, for a streamed one, its time to
    /// first token. A generation whose final chunk carried nothing (a load-only request, one cut
    /// short) changes nothing.
    /// </summary>
    /// <param name="model">The route's canonical model name.</param>
    /// <param name="isRunning">Whether the model is routed because it runs rather than configured.</param>
    /// <param name="statistics">What the final chunk said.</param>
    /// <param name="timeToFirstToken">The time to first token of a streamed answer, else null.</param>
    /// <param name="now">The end of the generation (Stopwatch ticks).</param>
    public void Record(string model, bool isRunning, GenerationStatistics statistics, TimeSpan? timeToFirstToken, long now)
    {
        if (!statistics.IsPresent)
        {
            return;
        }

        // As Connection.Activity: the entry found last is tried first, by reference to its name.
        var entry = _last;
        if (entry is null || !ReferenceEquals(entry.FoundBy, model))
        {
            if (!_models.TryGetValue(model, out entry) && !TryAdd(model, isRunning, out entry))
            {
                return;
            }

            entry.FoundBy = model;
            _last = entry;
        }

        entry.Record(statistics, timeToFirstToken, now);
    }

    /// <summary>What is known of <paramref name="model"/> (canonical name) on this connection; false when no generation of it reported anything.</summary>
    public bool TryGet(string model, out ModelStatisticsSnapshot snapshot)
    {
        if (_models.TryGetValue(model, out var entry))
        {
            snapshot = entry.Snapshot();
            return true;
        }

        snapshot = default;
        return false;
    }

    /// <summary>Every model's estimates, by name (for a status page or metrics).</summary>
    public IReadOnlyList<KeyValuePair<string, ModelStatisticsSnapshot>> All() =>
        [.. _models.Select(static p => KeyValuePair.Create(p.Key, p.Value.Snapshot())).OrderBy(static p => p.Key, StringComparer.Ordinal)];

    private bool TryAdd(string model, bool isRunning, out Entry entry)
    {
        lock (_adding)
        {
            if (_models.TryGetValue(model, out entry!))
            {
                return true;
            }

            if (isRunning)
            {
                if (_running >= MaxRunningModels)
                {
                    return false;
                }

                _running++;
            }

            entry = new Entry();
            _models[model] = entry;
            return true;
        }
    }

    /// <summary>One model's estimates. NaN means no sample yet.</summary>
    private sealed class Entry
    {
        private readonly Lock _lock = new();
        private long _generations;
        private long _coldLoads;
        private double _loadSeconds = double.NaN;
        private double _promptTokens = double.NaN;
        private double _promptSeconds = double.NaN;
        private double _evalTokens = double.NaN;
        private double _evalSeconds = double.NaN;
        private double _serviceSeconds = double.NaN;
        private double _firstTokenSeconds = double.NaN;
        private long _lastUpdated;

        /// <summary>The name this entry was last found by: any value is one of its names (see <see cref="ModelActivity.FoundBy"/>).</summary>
        public string? FoundBy { get; set; }

        public void Record(GenerationStatistics statistics, TimeSpan? timeToFirstToken, long now)
        {
            lock (_lock)
            {
                _generations++;
                _lastUpdated = now;
                if (statistics.IsColdLoad)
                {
                    _coldLoads++;
                    Mix(ref _loadSeconds, GenerationStatistics.Seconds(statistics.LoadDuration));
                }

                if (statistics.HasPromptRate)
                {
                    Mix(ref _promptTokens, statistics.PromptEvalCount);
                    Mix(ref _promptSeconds, GenerationStatistics.Seconds(statistics.PromptEvalDuration));
                }

                if (statistics.HasEvalRate)
                {
                    Mix(ref _evalTokens, statistics.EvalCount);
                    Mix(ref _evalSeconds, GenerationStatistics.Seconds(statistics.EvalDuration));
                }

                if (statistics.ServiceDuration > 0)
                {
                    Mix(ref _serviceSeconds, GenerationStatistics.Seconds(statistics.ServiceDuration));
                }

                if (timeToFirstToken is { } firstToken)
                {
                    Mix(ref _firstTokenSeconds, firstToken.TotalSeconds);
                }
            }
        }

        public ModelStatisticsSnapshot Snapshot()
        {
            lock (_lock)
            {
                return new ModelStatisticsSnapshot(
                    _generations,
                    _coldLoads,
                    Known(_loadSeconds),
                    Known(_promptTokens / _promptSeconds),
                    Known(_evalTokens / _evalSeconds),
                    Known(_serviceSeconds),
                    Known(_firstTokenSeconds),
                    _lastUpdated);
            }
        }

        private static void Mix(ref double estimate, double sample) =>
            estimate = double.IsNaN(estimate) ? sample : estimate + (Weight * (sample - estimate));

        private static double? Known(double value) => double.IsFinite(value) ? value : null;
    }
}
