using Gollamas.Connections;
using Gollamas.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gollamas.Tests.Connections;

/// <summary>A server's gate whose limit a new snapshot changes while requests run.</summary>
public sealed class ConcurrencyGateLimitTests
{
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromMinutes(1);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task SetLimits_Raised_AdmitsTheWaitingAtOnce()
    {
        var gate = new ConcurrencyGate(limit: 1, queueLength: 4);
        (await gate.EnterAsync(QueueTimeout, _time, CancellationToken.None)).Should().Be(GateResult.Entered);
        var second = gate.EnterAsync(QueueTimeout, _time, CancellationToken.None).AsTask();
        var third = gate.EnterAsync(QueueTimeout, _time, CancellationToken.None).AsTask();
        var waitingBefore = gate.Waiting;

        gate.SetLimits(3, queueLength: 4);

        waitingBefore.Should().Be(2);
        (await second.DefaultTimeout()).Should().Be(GateResult.Entered);
        (await third.DefaultTimeout()).Should().Be(GateResult.Entered);
        gate.Active.Should().Be(3);
        gate.HasFreeSlot.Should().BeFalse();
    }

    [Fact]
    public async Task SetLimits_Lowered_InFlightFinish_AndNoneIsAdmittedUntilBelowTheNewLimit()
    {
        var gate = new ConcurrencyGate(limit: 3, queueLength: 4);
        for (var i = 0; i < 3; i++)
        {
            (await gate.EnterAsync(QueueTimeout, _time, CancellationToken.None)).Should().Be(GateResult.Entered);
        }

        gate.SetLimits(1, queueLength: 4);
        var waiting = gate.EnterAsync(QueueTimeout, _time, CancellationToken.None).AsTask();
        gate.Exit();
        var afterOneExit = waiting.IsCompleted;
        gate.Exit();
        var afterTwoExits = waiting.IsCompleted;
        gate.Exit();

        afterOneExit.Should().BeFalse("two are still in flight, over the new limit of one");
        afterTwoExits.Should().BeFalse("one is still in flight, at the new limit");
        (await waiting.DefaultTimeout()).Should().Be(GateResult.Entered);
        gate.Active.Should().Be(1);
    }

    [Fact]
    public async Task SetLimits_SetOnAnUnlimitedGate_CountsTheRequestsAlreadyIn()
    {
        var gate = new ConcurrencyGate(limit: 0, queueLength: 4);
        (await gate.EnterAsync(QueueTimeout, _time, CancellationToken.None)).Should().Be(GateResult.Entered);
        (await gate.EnterAsync(QueueTimeout, _time, CancellationToken.None)).Should().Be(GateResult.Entered);

        gate.SetLimits(2, queueLength: 4);
        var waiting = gate.EnterAsync(QueueTimeout, _time, CancellationToken.None).AsTask();
        var admittedBeforeExit = waiting.IsCompleted;
        gate.Exit();

        admittedBeforeExit.Should().BeFalse("the two in flight fill the new limit");
        (await waiting.DefaultTimeout()).Should().Be(GateResult.Entered);
    }

    [Fact]
    public async Task SetLimits_Lifted_ReleasesEveryWaiter()
    {
        var gate = new ConcurrencyGate(limit: 1, queueLength: 4);
        (await gate.EnterAsync(QueueTimeout, _time, CancellationToken.None)).Should().Be(GateResult.Entered);
        var waiting = gate.EnterAsync(QueueTimeout, _time, CancellationToken.None).AsTask();

        gate.SetLimits(0, queueLength: 4);

        (await waiting.DefaultTimeout()).Should().Be(GateResult.Entered);
        gate.Waiting.Should().Be(0);
        gate.HasFreeSlot.Should().BeTrue();
    }
}
