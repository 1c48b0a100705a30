using System.Globalization;

namespace Gollamas.Simulator.Workload;

/// <summary>
/// What users ask, drawn from the seed alone: the same seed gives every setup the same
/// sessions, turns, words and lengths, whatever the answers' timing. A user draws each session
/// whole before sending its first request.
/// </summary>
internal sealed class WorkloadPlan
{
    private readonly WorkloadOptions _options;
    private readonly string[] _popularity;
    private readonly double[] _cumulative;
    private readonly string[] _systemPrompts;

    public WorkloadPlan(WorkloadOptions options)
    {
        _options = options;
        var random = new Random(options.Seed);
        _popularity = [.. options.Models];
        random.Shuffle(_popularity);
        var weights = _popularity.Select((_, k) => 1 / Math.Pow(k + 1, options.ZipfExponent)).ToArray();
        var total = weights.Sum();
        var running = 0.0;
        _cumulative = weights.Select(w => running += w / total).ToArray();

        // A few applications' system prompts, shared by their users (and by a server's cache).
        _systemPrompts = Enumerable.Range(0, 4).Select(_ => Words(random, random.Next(60, 300))).ToArray();
    }

    /// <summary>The models from the most to the least popular.</summary>
    public IReadOnlyList<string> Popularity => _popularity;

    public Random ForUser(int user) => new(unchecked((_options.Seed * 7919) + user + 1));

    public Session NextSession(Random random)
    {
        var model = _popularity[Array.FindIndex(_cumulative, c => c >= random.NextDouble() * 0.999999)];
        var gap = Exponential(random, _options.MeanSessionGap);
        if (random.NextDouble() < _options.OneShotShare)
        {
            return new Session(model, null, [new Turn(Words(random, random.Next(40, 600)), random.Next(20, 200), TimeSpan.Zero)], gap);
        }

        var system = _systemPrompts[random.Next(_systemPrompts.Length)];
        var turns = Enumerable.Range(0, random.Next(2, 9))
            .Select(_ => new Turn(Words(random, random.Next(8, 120)), random.Next(40, 300), Exponential(random, _options.MeanThinkTime)))
            .ToArray();
        return new Session(model, system, turns, gap);
    }

    private static TimeSpan Exponential(Random random, TimeSpan mean)
        => mean * Math.Min(4, -Math.Log(1 - random.NextDouble()));

    private static string Words(Random random, int count)
        => string.Join(' ', Enumerable.Range(0, count).Select(_ => "u" + random.Next(50000).ToString(CultureInfo.InvariantCulture)));
}

/// <summary>One chat (with a system prompt) or one generation (without).</summary>
internal sealed record Session(string Model, string? System, IReadOnlyList<Turn> Turns, TimeSpan GapAfter)
{
    public bool IsChat => System is not null;
}

/// <summary>A user's message, the answer's length it asks for, and the think time after the answer.</summary>
internal sealed record Turn(string Text, int NumPredict, TimeSpan ThinkAfter);
