using Gollamas.Connections;
using Gollamas.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Gollamas.Tests.Connections;

/// <summary>
/// <see cref="ConcurrencyGate"/> on its own: a released slot goes to the first request in line,
/// never to one that has left it, and when the release and the waiter's leaving (its client gone,
/// its queue timeout up) happen at the same moment the slot is neither lost nor doubled.
/// </summary>
public sealed class ConcurrencyGateTests(ITestOutputHelper output)
{
    /// <summary>Rounds of each race: enough for both orders to occur many times on two cores.</summary>
    private const int Rounds = 2000;

    private static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Exit_WithARequestInLine_HandsTheSlotOverInsteadOfFreeingIt()
    {
        var gate = new ConcurrencyGate(limit: 1, queueLength: 4);
        (await EnterAsync(gate)).Should().Be(GateResult.Entered);
        var waiter = EnterAsync(gate);
        waiter.IsCompleted.Should().BeFalse();
        gate.Waiting.Should().Be(1);

        gate.Exit();

        (await waiter.DefaultTimeout()).Should().Be(GateResult.Entered);
        gate.Waiting.Should().Be(0);
        gate.HasFreeSlot.Should().BeFalse("the slot went to the waiter, not back to the pool");
        gate.Exit();
        await ShouldHaveExactlyOneSlotAsync(gate);
    }

    [Fact]
    public async Task EnterAsync_ClientGoneWhileInLine_LeavesTheLineAndTheNextExitFreesTheSlot()
    {
        var gate = new ConcurrencyGate(limit: 1, queueLength: 4);
        (await EnterAsync(gate)).Should().Be(GateResult.Entered);
        using var client = new CancellationTokenSource();
        var waiter = EnterAsync(gate, client.Token);

        await client.CancelAsync();

        (await waiter.DefaultTimeout()).Should().Be(GateResult.Cancelled);
        gate.Waiting.Should().Be(0);
        gate.Exit();
        await ShouldHaveExactlyOneSlotAsync(gate);
    }

    [Fact]
    public async Task EnterAsync_QueueTimeoutUp_LeavesTheLineAtTheTimeoutNotBefore()
    {
        var gate = new ConcurrencyGate(limit: 1, queueLength: 4);
        var time = new FakeTimeProvider();
        (await EnterAsync(gate)).Should().Be(GateResult.Entered);
        var waiter = gate.EnterAsync(QueueTimeout, time, CancellationToken.None).AsTask();

        time.Advance(QueueTimeout - TimeSpan.FromTicks(1));
        waiter.IsCompleted.Should().BeFalse();
        time.Advance(TimeSpan.FromTicks(1));

        (await waiter.DefaultTimeout()).Should().Be(GateResult.TimedOut);
        gate.Waiting.Should().Be(0);
        gate.Exit();
        await ShouldHaveExactlyOneSlotAsync(gate);
    }

    [Fact]
    public async Task Exit_FirstInLineGone_SlotGoesToTheNext()
    {
        var gate = new ConcurrencyGate(limit: 1, queueLength: 4);
        (await EnterAsync(gate)).Should().Be(GateResult.Entered);
        using var client = new CancellationTokenSource();
        var first = EnterAsync(gate, client.Token);
        var second = EnterAsync(gate);
        await client.CancelAsync();
        (await first.DefaultTimeout()).Should().Be(GateResult.Cancelled);

        gate.Exit();

        (await second.DefaultTimeout()).Should().Be(GateResult.Entered);
        gate.Exit();
        await ShouldHaveExactlyOneSlotAsync(gate);
    }

    [Fact]
    public async Task Exit_AtTheMomentTheFirstInLineIsCancelled_SlotNeitherLostNorDoubled()
    {
        var gate = new ConcurrencyGate(limit: 1, queueLength: 4);
        using var race = new Race();
        var entered = 0;
        for (var round = 0; round < Rounds; round++)
        {
            (await EnterAsync(gate)).Should().Be(GateResult.Entered);
            using var client = new CancellationTokenSource();
            var first = EnterAsync(gate, client.Token);
            var second = EnterAsync(gate);

            race.Run(gate.Exit, client.Cancel);

            var result = await first.DefaultTimeout();
            result.Should().BeOneOf(GateResult.Entered, GateResult.Cancelled);
            entered += await SettleAsync(gate, result, second);
        }

        output.WriteLine($"The first in line got the slot in {entered} of {Rounds} rounds, was cancelled first in the others.");
        await ShouldHaveExactlyOneSlotAsync(gate);
    }

    [Fact]
    public async Task Exit_AtTheMomentTheFirstInLineTimesOut_SlotNeitherLostNorDoubled()
    {
        var gate = new ConcurrencyGate(limit: 1, queueLength: 4);
        var time = new FakeTimeProvider();
        using var race = new Race();
        var entered = 0;
        for (var round = 0; round < Rounds; round++)
        {
            (await EnterAsync(gate)).Should().Be(GateResult.Entered);
            var first = gate.EnterAsync(QueueTimeout, time, CancellationToken.None).AsTask();
            var second = EnterAsync(gate);

            race.Run(gate.Exit, () => time.Advance(QueueTimeout));

            var result = await first.DefaultTimeout();
            result.Should().BeOneOf(GateResult.Entered, GateResult.TimedOut);
            entered += await SettleAsync(gate, result, second);
        }

        output.WriteLine($"The first in line got the slot in {entered} of {Rounds} rounds, timed out first in the others.");
        await ShouldHaveExactlyOneSlotAsync(gate);
    }

    /// <summary>
    /// After a race: the slot the holder gave back is with the first in line or, if that one left,
    /// with the second, which must get it. Gives back whatever was entered; 1 if the first had it.
    /// </summary>
    private static async Task<int> SettleAsync(ConcurrencyGate gate, GateResult first, Task<GateResult> second)
    {
        if (first == GateResult.Entered)
        {
            second.IsCompleted.Should().BeFalse("one slot cannot go to both requests in line");
            gate.Exit();
        }

        (await second.DefaultTimeout()).Should().Be(GateResult.Entered, "a slot given back while the first in line left must reach the next");
        gate.Exit();
        await ShouldHaveExactlyOneSlotAsync(gate);
        return first == GateResult.Entered ? 1 : 0;
    }

    /// <summary>The gate is idle with exactly its one slot: one request enters at once, the next queues.</summary>
    private static async Task ShouldHaveExactlyOneSlotAsync(ConcurrencyGate gate)
    {
        gate.Waiting.Should().Be(0);
        gate.HasFreeSlot.Should().BeTrue("a slot given back must not be lost");
        var holder = EnterAsync(gate);
        holder.IsCompleted.Should().BeTrue("a free slot is taken without waiting");
        (await holder).Should().Be(GateResult.Entered);

        using var client = new CancellationTokenSource();
        var next = EnterAsync(gate, client.Token);
        next.IsCompleted.Should().BeFalse("a slot must not be counted twice");
        await client.CancelAsync();
        (await next.DefaultTimeout()).Should().Be(GateResult.Cancelled);

        gate.Exit();
        gate.HasFreeSlot.Should().BeTrue();
    }

    private static Task<GateResult> EnterAsync(ConcurrencyGate gate, CancellationToken cancellationToken = default) =>
        gate.EnterAsync(QueueTimeout, TimeProvider.System, cancellationToken).AsTask();

    /// <summary>
    /// Two threads that run one action each at the same moment, round after round: both wait at a
    /// barrier with the test's thread, act, and meet again once both are done.
    /// </summary>
    private sealed class Race : IDisposable
    {
        private readonly Barrier _start = new(3);
        private readonly Barrier _done = new(3);
        private readonly Thread[] _threads;
        private Action? _first;
        private Action? _second;
        private Exception? _fault;
        private volatile bool _stopping;

        public Race()
        {
            _threads = [Start(() => _first!), Start(() => _second!)];
        }

        public void Run(Action first, Action second)
        {
            _first = first;
            _second = second;
            _start.SignalAndWait(TestTimeouts.Default).Should().BeTrue("both racers start");
            _done.SignalAndWait(TestTimeouts.Default).Should().BeTrue("both racers finish");
            _fault.Should().BeNull();
        }

        public void Dispose()
        {
            _stopping = true;
            _start.SignalAndWait(TestTimeouts.Default);
            foreach (var thread in _threads)
            {
                thread.Join(TestTimeouts.Default);
            }

            _start.Dispose();
            _done.Dispose();
        }

        private Thread Start(Func<Action> action)
        {
            var thread = new Thread(() =>
            {
                while (_start.SignalAndWait(TestTimeouts.Default) && !_stopping)
                {
                    try
                    {
                        action()();
                    }
                    catch (Exception ex)
                    {
                        _fault = ex;
                    }

                    if (!_done.SignalAndWait(TestTimeouts.Default))
                    {
                        return;
                    }
                }
            })
            { IsBackground = true, Name = "gate race" };
            thread.Start();
            return thread;
        }
    }
}
