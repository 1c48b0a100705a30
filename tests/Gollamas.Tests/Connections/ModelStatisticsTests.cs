using Gollamas.Connections;
using Gollamas.Diagnostics;

namespace Gollamas.Tests.Connections;

/// <summary><see cref="ModelStatistics"/> on its own: generations in, recent estimates per model out.</summary>
public sealed class ModelStatisticsTests
{
    private const long Second = 1_000_000_000;

    [Fact]
    public void Record_OneColdGeneration_EstimatesAreItsOwn()
    {
        var store = new ModelStatistics();

        store.Record("llama3.2:latest", isRunning: false, new GenerationStatistics(7 * Second, 2 * Second, 200, Second / 2, 50, 2 * Second), TimeSpan.FromSeconds(3), now: 42);

        store.TryGet("llama3.2:latest", out var snapshot).Should().BeTrue();
        snapshot.Should().Be(new ModelStatisticsSnapshot(1, 1, 2.0, 400.0, 25.0, 2.5, 3.0, 42));
    }

    [Fact]
    public void Record_WarmAfterCold_LoadEstimateKeptAndRatesMixedByWeight()
    {
        var store = new ModelStatistics();
        store.Record("m", false, new GenerationStatistics(5 * Second, 4 * Second, 100, Second, 10, Second), null, 1);

        store.Record("m", false, new GenerationStatistics(3 * Second, 3_000_000, 100, Second / 4, 30, Second), null, 2);

        store.TryGet("m", out var snapshot).Should().BeTrue();
        snapshot.Generations.Should().Be(2);
        snapshot.ColdLoads.Should().Be(1);
        snapshot.LoadSeconds.Should().Be(4.0, "a warm request's few milliseconds are not a load");
        // Tokens 100 and 100, seconds 1 then 0.25: 100 / (1 + 0.2 * (0.25 - 1)) = 100 / 0.85.
        snapshot.PromptTokensPerSecond.Should().BeApproximately(100 / 0.85, 1e-9);
        // Tokens 10 then 30 (10 + 0.2 * 20 = 14) over 1 s each.
        snapshot.EvalTokensPerSecond.Should().BeApproximately(14.0, 1e-9);
        // Service 2 s then 1.25 s: 2 + 0.2 * (1.25 - 2).
        snapshot.ServiceSeconds.Should().BeApproximately(1.85, 1e-9);
        snapshot.TimeToFirstTokenSeconds.Should().BeNull("neither answer was streamed");
        snapshot.LastUpdated.Should().Be(2);
    }

    [Fact]
    public void Record_FieldsLeftOut_OnlyWhatWasReportedIsEstimated()
    {
        var store = new ModelStatistics();

        store.Record("m", false, new GenerationStatistics(Second, 0, 0, 0, 8, Second / 2), TimeSpan.FromMilliseconds(250), 1);

        store.TryGet("m", out var snapshot).Should().BeTrue();
        snapshot.Should().Be(new ModelStatisticsSnapshot(1, 0, null, null, 16.0, 0.5, 0.25, 1));
    }

    [Fact]
    public void Record_NothingReported_NoEntry()
    {
        var store = new ModelStatistics();

        store.Record("m", false, default, TimeSpan.FromSeconds(1), 1);

        store.TryGet("m", out _).Should().BeFalse();
        store.Count.Should().Be(0);
    }

    [Fact]
    public void Record_ModelNamesCompareAsOllamaDoes_OneEntry()
    {
        var store = new ModelStatistics();
        var generation = new GenerationStatistics(Second, 0, 1, 1, 1, 1);

        store.Record("llama3.2:latest", false, generation, null, 1);
        store.Record("LLAMA3.2:latest", false, generation, null, 2);

        store.Count.Should().Be(1);
        store.TryGet("Llama3.2:Latest", out var snapshot).Should().BeTrue();
        snapshot.Generations.Should().Be(2);
    }

    [Fact]
    public void Record_ManyRunningModels_BoundedWhileConfiguredOnesAreAlwaysKept()
    {
        var store = new ModelStatistics();
        var generation = new GenerationStatistics(Second, 0, 1, 1, 1, 1);

        for (var i = 0; i < ModelStatistics.MaxRunningModels + 10; i++)
        {
            store.Record($"running{i}", isRunning: true, generation, null, 1);
        }

        store.Record("configured", isRunning: false, generation, null, 1);
        store.Record("running0", isRunning: true, generation, null, 2);

        store.Count.Should().Be(ModelStatistics.MaxRunningModels + 1);
        store.TryGet($"running{ModelStatistics.MaxRunningModels}", out _).Should().BeFalse();
        store.TryGet("configured", out _).Should().BeTrue();
        store.TryGet("running0", out var first).Should().BeTrue();
        first.Generations.Should().Be(2, "a model that has its entry keeps it");
    }

    [Fact]
    public async Task Record_FromManyThreads_EveryGenerationCounted()
    {
        var store = new ModelStatistics();
        var generation = new GenerationStatistics(Second, 2 * Second, 10, Second, 10, Second);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                store.Record("m", false, generation, null, 1);
            }
        })));

        store.TryGet("m", out var snapshot).Should().BeTrue();
        snapshot.Generations.Should().Be(8000);
        snapshot.ColdLoads.Should().Be(8000);
        snapshot.LoadSeconds.Should().Be(2.0);
    }
}
