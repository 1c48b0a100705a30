using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Connections;

/// <summary>The long-lived servers: one per connection identity, added and retired by snapshots.</summary>
public sealed class ConnectionRegistryTests : IDisposable
{
    private static readonly Uri Gpu1 = new("http://127.0.0.1:1/");
    private static readonly Uri Gpu2 = new("http://127.0.0.1:2/");

    private readonly ConnectionRegistry _registry = new();

    [Fact]
    public void GetOrAdd_SameIdentity_ReturnsTheSameServer()
    {
        var first = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));

        var second = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));

        second.Should().BeSameAs(first);
        _registry.Active.Should().Equal(first);
    }

    [Fact]
    public void GetOrAdd_SameIdAnotherUrl_IsAnotherServer()
    {
        var first = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));

        var second = Add(new ConnectionConfig("gpu1", Gpu2, IsExplicit: true));

        second.Should().NotBeSameAs(first);
        _registry.Active.Should().Equal(first, second);
    }

    [Fact]
    public void GetOrAdd_SameUrlOtherCredentials_IsAnotherServer()
    {
        UrlCredentials.TrySplit("http://user:one@127.0.0.1:1/", out _, out var one, out _).Should().BeTrue();
        UrlCredentials.TrySplit("http://user:two@127.0.0.1:1/", out _, out var two, out _).Should().BeTrue();
        var first = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true, one));

        var same = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true, one));
        var other = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true, two));

        same.Should().BeSameAs(first);
        other.Should().NotBeSameAs(first);
    }

    [Fact]
    public void GetOrAdd_NewServer_RaisesChanged()
    {
        var changes = 0;
        _registry.Changed += () => changes++;

        Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));
        Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));

        changes.Should().Be(1, "only a server that was not there is a change");
    }

    [Fact]
    public void RetainOnly_IdleServer_IsRetiredAndClosedAtOnce()
    {
        var kept = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));
        var dropped = Add(new ConnectionConfig("gpu2", Gpu2, IsExplicit: true));
        var changes = 0;
        _registry.Changed += () => changes++;

        _registry.RetainOnly([kept]);

        _registry.Active.Should().Equal(kept);
        dropped.IsRetired.Should().BeTrue();
        dropped.IsClosed.Should().BeTrue("nothing was using it");
        dropped.TryAcquire().Should().BeFalse();
        kept.IsRetired.Should().BeFalse();
        changes.Should().Be(1);
    }

    [Fact]
    public async Task RetainOnly_ServerInUse_ClosesOnlyWhenTheLastUseEnds()
    {
        var dropped = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));
        dropped.TryAcquire().Should().BeTrue();
        dropped.TryAcquire().Should().BeTrue();

        _registry.RetainOnly([]);
        var afterRetire = dropped.IsClosed;
        dropped.Release();
        var afterFirstRelease = dropped.IsClosed;
        dropped.Release();

        afterRetire.Should().BeFalse();
        afterFirstRelease.Should().BeFalse();
        await dropped.Closed.DefaultTimeout();
        dropped.IsClosed.Should().BeTrue();
        _registry.Active.Should().BeEmpty();
    }

    [Fact]
    public void GetOrAdd_IdentityOfARetiredServer_IsANewServer()
    {
        var retired = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));
        _registry.RetainOnly([]);

        var again = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));

        again.Should().NotBeSameAs(retired);
        again.TryAcquire().Should().BeTrue();
        again.Release();
    }

    [Fact]
    public void Dispose_ClosesServersStillDraining()
    {
        var draining = Add(new ConnectionConfig("gpu1", Gpu1, IsExplicit: true));
        draining.TryAcquire().Should().BeTrue();
        _registry.RetainOnly([]);

        _registry.Dispose();

        draining.IsClosed.Should().BeTrue();
    }

    public void Dispose() => _registry.Dispose();

    private Connection Add(ConnectionConfig config) => _registry.GetOrAdd(config, new ConnectionSettings(), position: 1);
}
