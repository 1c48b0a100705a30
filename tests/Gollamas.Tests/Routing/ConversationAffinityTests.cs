using Gollamas.Routing;
using Gollamas.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gollamas.Tests.Routing;

/// <summary>
/// <see cref="ConversationAffinity"/>: a conversation's connection is found again until the table
/// needs its room (the least recently used goes) or it stays unused past the idle time; many
/// threads at once leave it consistent; a warm table allocates nothing.
/// </summary>
public sealed class ConversationAffinityTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(30);

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    [Fact]
    public void TryGet_AfterRemember_FindsTheConnection()
    {
        var table = new ConversationAffinity(_time);
        table.Remember(42, "gpu-a");

        var found = table.TryGet(42, out var connection);

        found.Should().BeTrue();
        connection.Should().Be("gpu-a");
    }

    [Fact]
    public void TryGet_UnknownKey_FindsNothing()
    {
        var table = new ConversationAffinity(_time);
        table.Remember(42, "gpu-a");

        var found = table.TryGet(43, out var connection);

        found.Should().BeFalse();
        connection.Should().BeEmpty();
    }

    [Fact]
    public void Remember_AKnownKey_ReplacesItsConnection()
    {
        var table = new ConversationAffinity(_time);
        table.Remember(42, "gpu-a");

        table.Remember(42, "gpu-b");

        table.TryGet(42, out var connection).Should().BeTrue();
        connection.Should().Be("gpu-b");
        table.Count.Should().Be(1);
    }

    [Fact]
    public void Remember_BeyondCapacity_DropsTheLeastRecentlyRemembered()
    {
        var table = new ConversationAffinity(_time, capacity: 3);
        table.Remember(1, "a");
        table.Remember(2, "b");
        table.Remember(3, "c");

        table.Remember(4, "d");

        table.Count.Should().Be(3);
        table.TryGet(1, out _).Should().BeFalse();
        Found(table, 2, 3, 4).Should().Equal("b", "c", "d");
    }

    [Fact]
    public void Remember_BeyondCapacity_SparesAnEntryALookUpUsed()
    {
        var table = new ConversationAffinity(_time, capacity: 3);
        table.Remember(1, "a");
        table.Remember(2, "b");
        table.Remember(3, "c");
        table.TryGet(1, out _).Should().BeTrue();

        table.Remember(4, "d");

        table.TryGet(2, out _).Should().BeFalse();
        Found(table, 1, 3, 4).Should().Equal("a", "c", "d");
    }

    [Fact]
    public void Remember_ManyTimesTheCapacity_KeepsExactlyTheNewest()
    {
        var table = new ConversationAffinity(_time, capacity: 8);

        for (ulong key = 0; key < 100; key++)
        {
            table.Remember(key, $"c{key}");
        }

        table.Count.Should().Be(8);
        Found(table, 92, 93, 94, 95, 96, 97, 98, 99).Should().Equal("c92", "c93", "c94", "c95", "c96", "c97", "c98", "c99");
        table.TryGet(91, out _).Should().BeFalse();
    }

    [Fact]
    public void TryGet_UnusedForTheIdleTime_StillFinds()
    {
        var table = new ConversationAffinity(_time, idleTime: Idle);
        table.Remember(42, "gpu-a");

        _time.Advance(Idle);

        table.TryGet(42, out var connection).Should().BeTrue();
        connection.Should().Be("gpu-a");
    }

    [Fact]
    public void TryGet_UnusedForLongerThanTheIdleTime_FindsNothingAndDropsTheEntry()
    {
        var table = new ConversationAffinity(_time, idleTime: Idle);
        table.Remember(42, "gpu-a");

        _time.Advance(Idle + TimeSpan.FromSeconds(1));

        table.TryGet(42, out _).Should().BeFalse();
        table.Count.Should().Be(0);
    }

    [Fact]
    public void TryGet_EachUse_StartsTheIdleTimeAgain()
    {
        var table = new ConversationAffinity(_time, idleTime: Idle);
        table.Remember(42, "gpu-a");

        for (var turn = 0; turn < 5; turn++)
        {
            _time.Advance(Idle - TimeSpan.FromMinutes(1));
            table.TryGet(42, out _).Should().BeTrue($"turn {turn} came within the idle time of the one before");
        }
    }

    [Fact]
    public void Remember_WhenFull_DropsExpiredEntriesBeforeLiveOnes()
    {
        var table = new ConversationAffinity(_time, capacity: 3, idleTime: Idle);
        table.Remember(1, "a");
        table.Remember(2, "b");
        _time.Advance(Idle + TimeSpan.FromSeconds(1));
        table.Remember(3, "c");

        table.Remember(4, "d");
        table.Remember(5, "e");

        Found(table, 3, 4, 5).Should().Equal("c", "d", "e");
        table.Count.Should().Be(3);
    }

    [Fact]
    public void Calls_AfterTheIdleTime_DropExpiredEntriesAFewAtATime()
    {
        var table = new ConversationAffinity(_time, capacity: 16, idleTime: Idle);
        for (ulong key = 0; key < 10; key++)
        {
            table.Remember(key, "a");
        }

        _time.Advance(Idle + TimeSpan.FromSeconds(1));
        table.TryGet(100, out _);

        table.Count.Should().Be(8, "one call drops two expired entries, no more");
        for (var call = 0; call < 4; call++)
        {
            table.TryGet(100, out _);
        }

        table.Count.Should().Be(0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_CapacityBelowOne_IsRefused(int capacity)
    {
        var create = () => new ConversationAffinity(_time, capacity);

        create.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Constructor_Defaults_AreSixteenThousandEntriesAndHalfAnHour()
    {
        var table = new ConversationAffinity(_time);
        table.Remember(1, "a");

        _time.Advance(TimeSpan.FromMinutes(30));
        var atHalfAnHour = table.TryGet(1, out _);
        _time.Advance(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(1));
        var afterIt = table.TryGet(1, out _);

        table.Capacity.Should().Be(16_384);
        atHalfAnHour.Should().BeTrue();
        afterIt.Should().BeFalse();
    }

    [Fact]
    public async Task Calls_FromManyThreads_LeaveTheTableConsistent()
    {
        // Each key is only ever remembered with its own id: a torn or crossed entry shows as another id.
        const int Capacity = 64;
        var table = new ConversationAffinity(_time, capacity: Capacity);
        var ids = Enumerable.Range(0, 256).Select(key => $"c{key}").ToArray();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            await start.Task;
            var wrong = 0;
            var found = 0;
            var random = new Random(worker);
            for (var i = 0; i < 50_000; i++)
            {
                var key = random.Next(ids.Length);
                if (random.Next(2) == 0)
                {
                    table.Remember((ulong)key, ids[key]);
                }
                else if (table.TryGet((ulong)key, out var id))
                {
                    found++;
                    wrong += ReferenceEquals(id, ids[key]) ? 0 : 1;
                }
            }

            return (wrong, found);
        })).ToArray();

        start.SetResult();
        var results = await Task.WhenAll(workers).DefaultTimeout(TimeSpan.FromMinutes(2));

        results.Sum(result => result.wrong).Should().Be(0);
        results.Sum(result => result.found).Should().BeGreaterThan(0);
        table.Count.Should().Be(Capacity, "far more keys than room were remembered");
        var present = ids.Count(id => table.TryGet(ulong.Parse(id.AsSpan(1), provider: null), out var found) && ReferenceEquals(found, id));
        present.Should().Be(Capacity, "every entry the index holds is reachable and right");
    }

    [Fact]
    public void Calls_OnAWarmFullTable_AllocateNothing()
    {
        var table = new ConversationAffinity(_time, capacity: 128);
        var ids = Enumerable.Range(0, 512).Select(key => $"c{key}").ToArray();
        for (var key = 0; key < ids.Length; key++)
        {
            table.Remember((ulong)key, ids[key]);
        }

        // A first pass lets the runtime settle (tiered compilation replaces the loop's code while
        // it runs, and that may allocate once); the second pass is the one measured.
        var lookUps = RememberAndLookUp(table, ids);
        var before = GC.GetAllocatedBytesForCurrentThread();
        lookUps += RememberAndLookUp(table, ids);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0);
        lookUps.Should().Be(20_000, "every look-up ran");
        table.TryGet((ulong)LastKey(ids), out var last).Should().BeTrue("the table still works");
        last.Should().Be(ids[LastKey(ids)]);
    }

    // Remembers keys in a scattered order, each followed by a look-up of another key; returns
    // how many look-ups ran, whether or not they found anything.
    private static int RememberAndLookUp(ConversationAffinity table, string[] ids)
    {
        var lookUps = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var key = (i * 7919) % ids.Length;
            table.Remember((ulong)key, ids[key]);
            _ = table.TryGet((ulong)((key + 3) % ids.Length), out _);
            lookUps++;
        }

        return lookUps;
    }

    private static int LastKey(string[] ids) => (9_999 * 7919) % ids.Length;

    private static string[] Found(ConversationAffinity table, params ulong[] keys) =>
        keys.Select(key => table.TryGet(key, out var connection) ? connection : "(none)").ToArray();
}
