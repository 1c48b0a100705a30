using Gollamas.Simulator;

namespace Gollamas.Tests.Simulator;

/// <summary>
/// The simulator's performance model, pinned on a manual clock: what a router is measured
/// against must not move when the router is tuned. Model speeds here: prefill 1000 tokens/s,
/// generation 50 tokens/s, load 0.5 s per GB.
/// </summary>
public sealed class SimServerTests
{
    private static readonly SimModel s_a = new("a:latest", 4, 1000, 50);
    private static readonly SimModel s_b = new("b:latest", 4, 1000, 50);
    private static readonly SimModel s_c = new("c:latest", 4, 1000, 50);
    private static readonly string[] s_three = ["one", "two", "three"];
    private static readonly SimModel s_big = new("big:latest", 8, 1000, 50);

    [Fact]
    public void ColdRequest_LoadDurationIsSizeTimesLoadRate()
    {
        var clock = new ManualClock();
        var server = Server(clock, models: [s_big]);

        var job = server.Submit(Chat(s_big, [("user", "hello world")], output: 10));
        clock.AdvanceTo(Seconds(60));

        var result = ResultOf(job);
        result.LoadDuration.Should().Be(Seconds(4), "8 GB at 0.5 s per GB");
        result.PromptEvalCount.Should().Be(5, "user marker, two words, end marker, assistant marker");
        result.PromptEvalDuration.Should().Be(TimeSpan.FromMilliseconds(5));
        result.EvalCount.Should().Be(10);
        result.EvalDuration.Should().Be(TimeSpan.FromMilliseconds(200));
        result.TotalDuration.Should().Be(TimeSpan.FromMilliseconds(4205));
        result.DoneReason.Should().Be("length");
        server.Counters.Loads.Should().Be(1);
    }

    [Fact]
    public void SecondTurn_SameServer_EvaluatesOnlyTheNewMessage()
    {
        var clock = new ManualClock();
        var server = Server(clock, models: [s_a]);
        List<(string, string)> history = [("system", Words("s", 100)), ("user", Words("q", 20))];
        var first = server.Submit(Chat(s_a, history, output: 30));
        clock.AdvanceTo(Seconds(30));
        history.Add(("assistant", string.Join(' ', first.AnswerWords)));
        history.Add(("user", Words("r", 10)));

        var second = server.Submit(Chat(s_a, history, output: 30));
        clock.AdvanceTo(Seconds(60));

        ResultOf(first).PromptEvalCount.Should().Be(125);
        var result = ResultOf(second);
        result.PromptEvalCount.Should().Be(14, "end of the answer, user marker, 10 words, end marker, assistant marker");
        result.LoadDuration.Should().Be(TimeSpan.Zero);
        server.Counters.CachedPromptTokens.Should().Be(125 + 30);
        server.Counters.PromptTokens.Should().Be(125 + 169);
    }

    [Fact]
    public void SecondTurn_OnAnotherServer_EvaluatesTheWholeHistory()
    {
        var clock = new ManualClock();
        var one = Server(clock, models: [s_a]);
        var two = Server(clock, models: [s_a]);
        List<(string, string)> history = [("system", Words("s", 100)), ("user", Words("q", 20))];
        var first = one.Submit(Chat(s_a, history, output: 30));
        clock.AdvanceTo(Seconds(30));
        history.Add(("assistant", string.Join(' ', first.AnswerWords)));
        history.Add(("user", Words("r", 10)));

        var second = two.Submit(Chat(s_a, history, output: 30));
        clock.AdvanceTo(Seconds(60));

        ResultOf(second).PromptEvalCount.Should().Be(169);
        two.Counters.CachedPromptTokens.Should().Be(0);
    }

    [Fact]
    public void MemoryShort_EvictsTheLeastRecentlyUsedIdleModel()
    {
        var clock = new ManualClock();
        var server = Server(clock, memoryGb: 10, models: [s_a, s_b, s_c]);
        server.Submit(Chat(s_a, [("user", "one")], output: 5));
        clock.AdvanceTo(Seconds(10));
        server.Submit(Chat(s_b, [("user", "two")], output: 5));
        clock.AdvanceTo(Seconds(20));
        server.Submit(Chat(s_a, [("user", "three")], output: 5));
        clock.AdvanceTo(Seconds(30));

        var c = server.Submit(Chat(s_c, [("user", "four")], output: 5));
        clock.AdvanceTo(Seconds(40));

        server.Loaded().Select(m => m.Model.Name).Should().BeEquivalentTo(["a:latest", "c:latest"]);
        server.Counters.Evictions.Should().Be(1);
        server.Counters.Loads.Should().Be(3);
        ResultOf(c).LoadDuration.Should().Be(Seconds(2));
    }

    [Fact]
    public void MemoryShort_NothingIdle_LoadWaitsForTheBusyModelToFinish()
    {
        var clock = new ManualClock();
        var six = new SimModel("six:latest", 6, 1000, 50);
        var other = new SimModel("other:latest", 6, 1000, 50);
        var server = Server(clock, memoryGb: 10, models: [six, other]);
        var running = server.Submit(Chat(six, [("user", "long answer")], output: 500));
        clock.AdvanceTo(Seconds(1));

        var waiting = server.Submit(Chat(other, [("user", "next")], output: 5));
        clock.AdvanceTo(Seconds(60));

        var runningEnd = ResultOf(running).TotalDuration;
        runningEnd.Should().Be(Seconds(3) + TimeSpan.FromMilliseconds(5) + Seconds(10));
        ResultOf(waiting).LoadDuration.Should().Be(runningEnd + Seconds(3) - Seconds(1), "it waits for the room, then loads");
        server.Counters.Evictions.Should().Be(1);
    }

    [Fact]
    public void BeyondNumParallel_RequestsWaitInOrderForASlot()
    {
        var clock = new ManualClock();
        var server = Server(clock, numParallel: 2, models: [s_a]);
        server.Submit(new SimJobRequest { Model = s_a, Kind = SimJobKind.Load });
        clock.AdvanceTo(Seconds(10));
        var jobs = s_three.Select(w => server.Submit(Chat(s_a, [("user", w)], output: 100))).ToArray();

        clock.AdvanceTo(Seconds(11.9));
        var third = Read(jobs[2]);
        clock.AdvanceTo(Seconds(60));

        third.Should().BeEmpty("both slots are busy for 2 s");
        ResultOf(jobs[0]).TotalDuration.Should().Be(TimeSpan.FromMilliseconds(2004));
        ResultOf(jobs[1]).TotalDuration.Should().Be(TimeSpan.FromMilliseconds(2004));
        ResultOf(jobs[2]).TotalDuration.Should().Be(TimeSpan.FromMilliseconds(2004 + 2003), "it waits 2.004 s, then its slot has the user marker cached");
    }

    [Fact]
    public void BeyondMaxQueue_AnswersBusy()
    {
        var clock = new ManualClock();
        var server = Server(clock, numParallel: 1, maxQueue: 1, models: [s_a]);
        server.Submit(new SimJobRequest { Model = s_a, Kind = SimJobKind.Load });
        clock.AdvanceTo(Seconds(10));

        var jobs = s_three.Select(w => server.Submit(Chat(s_a, [("user", w)], output: 100))).ToArray();
        clock.AdvanceTo(Seconds(60));

        Read(jobs[2]).Should().Equal(new SimProgress(SimProgressKind.Busy, 0, null));
        ResultOf(jobs[1]).TotalDuration.Should().Be(TimeSpan.FromMilliseconds(2004 + 2003));
        server.Counters.Busy.Should().Be(1);
        server.Counters.Completed.Should().Be(2);
    }

    [Fact]
    public void KeepAliveZero_UnloadsWhenTheRequestIsDone()
    {
        var clock = new ManualClock();
        var server = Server(clock, models: [s_a]);

        server.Submit(Chat(s_a, [("user", "bye")], output: 5, keepAlive: TimeSpan.Zero));
        clock.AdvanceTo(Seconds(1));
        var during = server.Loaded().Count;
        clock.AdvanceTo(Seconds(10));

        during.Should().Be(1);
        server.Loaded().Should().BeEmpty();
        server.Counters.Expiries.Should().Be(1);
    }

    [Fact]
    public void DefaultKeepAlive_UnloadsFiveMinutesAfterTheLastRequest()
    {
        var clock = new ManualClock();
        var server = Server(clock, models: [s_a]);
        var job = server.Submit(Chat(s_a, [("user", "hi")], output: 5));
        clock.AdvanceTo(Seconds(10));
        var done = ResultOf(job).TotalDuration;

        clock.AdvanceTo(done + TimeSpan.FromMinutes(5) - Seconds(1));
        var before = server.Loaded().Select(m => m.ExpiresAt).ToArray();
        clock.AdvanceTo(done + TimeSpan.FromMinutes(5));

        before.Should().Equal(done + TimeSpan.FromMinutes(5));
        server.Loaded().Should().BeEmpty();
    }

    [Fact]
    public void NumCtxChange_ReloadsTheModel()
    {
        var clock = new ManualClock();
        var server = Server(clock, models: [s_a]);
        server.Submit(Chat(s_a, [("user", "small")], output: 5));
        clock.AdvanceTo(Seconds(10));

        var job = server.Submit(Chat(s_a, [("user", "large")], output: 5, numCtx: 8192));
        clock.AdvanceTo(Seconds(20));

        ResultOf(job).LoadDuration.Should().Be(Seconds(2));
        server.Counters.Loads.Should().Be(2);
        server.Counters.Reloads.Should().Be(1);
        server.Loaded().Single().NumCtx.Should().Be(8192);
    }

    [Fact]
    public void SameNumCtx_KeepsTheModel()
    {
        var clock = new ManualClock();
        var server = Server(clock, models: [s_a]);
        server.Submit(Chat(s_a, [("user", "small")], output: 5, numCtx: 4096));
        clock.AdvanceTo(Seconds(10));

        var job = server.Submit(Chat(s_a, [("user", "again")], output: 5));
        clock.AdvanceTo(Seconds(20));

        ResultOf(job).LoadDuration.Should().Be(TimeSpan.Zero);
        server.Counters.Loads.Should().Be(1);
    }

    internal static SimServer Server(ManualClock clock, double memoryGb = 24, int numParallel = 2, int maxQueue = 512, SimModel[]? models = null)
        => new(new SimServerOptions { Name = "s", MemoryGb = memoryGb, NumParallel = numParallel, MaxQueue = maxQueue, Models = models ?? [s_a] }, clock);

    internal static SimJobRequest Chat(SimModel model, IEnumerable<(string, string)> messages, int output, int? numCtx = null, TimeSpan? keepAlive = null) => new()
    {
        Model = model,
        Prompt = SimTokens.Chat(messages),
        OutputTokens = output,
        LimitedByRequest = true,
        NumCtx = numCtx,
        KeepAlive = keepAlive,
    };

    internal static List<SimProgress> Read(SimJob job)
    {
        var steps = new List<SimProgress>();
        while (job.Progress.TryRead(out var step))
        {
            steps.Add(step);
        }

        return steps;
    }

    private static SimResult ResultOf(SimJob job)
    {
        var steps = Read(job);
        steps.Should().NotBeEmpty();
        steps[^1].Kind.Should().Be(SimProgressKind.Done);
        steps.Where(s => s.Kind == SimProgressKind.Tokens).Sum(s => s.Tokens).Should().Be(steps[^1].Result!.EvalCount);
        return steps[^1].Result!;
    }

    private static string Words(string prefix, int count) => string.Join(' ', Enumerable.Range(0, count).Select(i => prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static TimeSpan Seconds(double seconds) => TimeSpan.FromSeconds(seconds);
}
