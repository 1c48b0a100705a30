using Gollamas.Config;

namespace Gollamas.Tests.Config;

/// <summary>Which changed settings a reload cannot apply: the table's rows that are not live.</summary>
public sealed class ConfigComparisonTests
{
    private static readonly ConfigInput Running = new()
    {
        Listen = new ConfigEntry("127.0.0.1:11434", "--listen"),
        Proxies = [new ConfigEntry("llama3.2=http://gpu1:11434", "--proxy")],
    };

    [Fact]
    public void AChangedListenAddress_NeedsARestart()
    {
        var next = Running with { Listen = new ConfigEntry("127.0.0.1:11435", "gollamas.yaml:1: listen") };

        ConfigComparison.NeedRestart(Running, next).Should().Equal(Settings.Listen);
    }

    [Fact]
    public void ChangedRoutesAndQueueTimeout_AreLive()
    {
        var next = Running with
        {
            Proxies = [new ConfigEntry("llama3.2=http://gpu2:11434", "--proxy")],
            QueueTimeout = new ConfigEntry("5s", "--queue-timeout"),
        };

        ConfigComparison.NeedRestart(Running, next).Should().BeEmpty();
    }

    [Fact]
    public void TheSameValueFromAnotherPlace_IsNoChange()
    {
        var next = Running with { Listen = new ConfigEntry("127.0.0.1:11434", "gollamas.yaml:7: listen") };

        ConfigComparison.NeedRestart(Running, next).Should().BeEmpty();
    }

    [Fact]
    public void TheDefaultWrittenOut_IsNoChange_AndAnotherValueIs()
    {
        var written = Running with { HealthInterval = new ConfigEntry(Settings.HealthInterval.Default!, "gollamas.yaml:2: health_interval") };
        var changed = Running with { HealthInterval = new ConfigEntry("1m", "gollamas.yaml:2: health_interval") };

        ConfigComparison.NeedRestart(Running, written).Should().BeEmpty();
        ConfigComparison.NeedRestart(Running, changed).Should().Equal(Settings.HealthInterval);
        ConfigComparison.NeedRestart(changed, Running).Should().Equal([Settings.HealthInterval], "removing a value returns it to its default");
    }

    [Fact]
    public void ListSettings_CompareEveryValueInOrder()
    {
        var keys = Running with { ApiKeys = [new ConfigEntry("k1", "--api-key"), new ConfigEntry("k2", "--api-key")] };
        var sameKeys = Running with { ApiKeys = [new ConfigEntry("k1", "gollamas.yaml:9: api_keys"), new ConfigEntry("k2", "gollamas.yaml:10: api_keys")] };
        var otherKeys = Running with { ApiKeys = [new ConfigEntry("k1", "--api-key")] };

        ConfigComparison.NeedRestart(keys, sameKeys).Should().BeEmpty();
        ConfigComparison.NeedRestart(keys, otherKeys).Should().Equal(Settings.ApiKeys);
    }
}
