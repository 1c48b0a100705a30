using Gollamas.Config;
using Gollamas.Endpoints;
using Gollamas.Hosting;

namespace Gollamas.Tests.Hosting;

/// <summary>Which addresses of their own the proxy binds besides its own, and what each serves.</summary>
public sealed class OwnAddressesTests
{
    private static readonly GollamasOptions s_options = new()
    {
        Listen = new ListenAddress("127.0.0.1", 11434),
        Connections = [],
        Models = [],
        Aliases = [],
    };

    [Fact]
    public void MetricsAndAdminOnTwoAddresses_TwoListeners()
    {
        var options = s_options with
        {
            Metrics = new MetricsOptions { Listen = new ListenAddress("127.0.0.1", 9090) },
            Security = new SecurityOptions { AdminListen = new ListenAddress("127.0.0.1", 9091) },
        };

        ProxyServer.OwnAddresses(options).Should().Equal(
            new ProxyServer.OwnAddress(new ListenAddress("127.0.0.1", 9090), EndpointGroups.Metrics),
            new ProxyServer.OwnAddress(new ListenAddress("127.0.0.1", 9091), EndpointGroups.Admin));
        RequestDispatcher.MainGroups(options.Metrics, options.Security).Should().Be(EndpointGroups.Api);
    }

    [Fact]
    public void MetricsAndAdminOnOneAddress_OneListenerServingBoth()
    {
        var options = s_options with
        {
            Metrics = new MetricsOptions { Listen = new ListenAddress("127.0.0.1", 9090) },
            Security = new SecurityOptions { AdminListen = new ListenAddress("127.0.0.1", 9090) },
        };

        ProxyServer.OwnAddresses(options).Should().Equal(
            new ProxyServer.OwnAddress(new ListenAddress("127.0.0.1", 9090), EndpointGroups.Metrics | EndpointGroups.Admin));
    }

    [Fact]
    public void NeitherGiven_TheProxysAddressServesEverything()
    {
        ProxyServer.OwnAddresses(s_options).Should().BeEmpty();
        RequestDispatcher.MainGroups(s_options.Metrics, s_options.Security).Should().Be(EndpointGroups.Api | EndpointGroups.Metrics | EndpointGroups.Admin);
        RequestDispatcher.MainGroups(new MetricsOptions { Enabled = false }, s_options.Security).Should().Be(EndpointGroups.Api | EndpointGroups.Admin);
    }
}
