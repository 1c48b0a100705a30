using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Forwarding;
using Gollamas.Security;

namespace Gollamas.Routing;

/// <summary>
/// Everything a request reads of the configuration, immutable: routes, aliases and per-model
/// settings, CORS, limits, the queue and timeout policy, the Authorization rule, and each
/// server's own settings. A request takes one (<see cref="ProxySnapshotHolder.Current"/>) at its
/// start and keeps it to its end; a new configuration is a new snapshot, swapped in whole.
/// The servers it names are the long-lived ones of the <see cref="ConnectionRegistry"/>.
/// </summary>
internal sealed class ProxySnapshot
{
    private ProxySnapshot(
        RouteTable routes,
        IReadOnlyList<ConnectionSettings> connectionSettings,
        CorsPolicy cors,
        QueuePolicy queue,
        LimitOptions limits,
        ForwardPolicy forwarding,
        LifecycleOptions lifecycle)
    {
        Routes = routes;
        ConnectionSettings = connectionSettings;
        Cors = cors;
        Queue = queue;
        Limits = limits;
        Forwarding = forwarding;
        Lifecycle = lifecycle;
    }

    /// <summary>Models, aliases and their connections.</summary>
    public RouteTable Routes { get; }

    /// <summary>Every server the snapshot names, in declaration order: <see cref="RouteTable.AllConnections"/>.</summary>
    public IReadOnlyList<Connection> Connections => Routes.AllConnections;

    /// <summary>The settings of each of <see cref="Connections"/> (concurrency limit, queue, connect timeout), in the same order.</summary>
    public IReadOnlyList<ConnectionSettings> ConnectionSettings { get; }

    public CorsPolicy Cors { get; }

    /// <summary>How long a request may wait for a busy server.</summary>
    public QueuePolicy Queue { get; }

    /// <summary>Body sizes and the other request limits.</summary>
    public LimitOptions Limits { get; }

    /// <summary>Idle timeout and the Authorization rule of forwarded requests.</summary>
    public ForwardPolicy Forwarding { get; }

    /// <summary>Models loaded ahead of requests, and how often they are kept loaded.</summary>
    public LifecycleOptions Lifecycle { get; }

    /// <summary>
    /// The snapshot of <paramref name="options"/>. Its servers are taken from
    /// <paramref name="registry"/>, added there when new; swapping the snapshot in
    /// (<see cref="ProxySnapshotHolder.Swap"/>) pushes their settings and retires the others.
    /// </summary>
    /// <param name="options">The validated configuration.</param>
    /// <param name="registry">The process's connections.</param>
    /// <param name="hosts">The Host names served (fixed for the process: the listeners use them).</param>
    /// <param name="apiKeysEnabled">Whether clients must present a key (then their key headers are not forwarded, unless the options say so).</param>
    /// <param name="time">The clock requests wait by.</param>
    public static ProxySnapshot Build(GollamasOptions options, ConnectionRegistry registry, HostAllowList hosts, bool apiKeysEnabled, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registry);
        var connections = new Connection[options.Connections.Count];
        var settings = new ConnectionSettings[connections.Length];
        for (var i = 0; i < connections.Length; i++)
        {
            var config = options.Connections[i];
            settings[i] = new ConnectionSettings
            {
                ConnectTimeout = options.Limits.ConnectTimeout,
                FailuresBeforeDown = options.Health.FailuresBeforeDown,
                ConcurrencyLimit = options.Concurrency.PerConnection.TryGetValue(config.Id, out var limit) ? limit : options.Concurrency.DefaultLimit,
                QueueLength = options.Concurrency.QueueLength,
            };
            connections[i] = registry.GetOrAdd(config, settings[i], position: i + 1);
        }

        return new ProxySnapshot(
            RouteTable.Build(options, connections),
            settings,
            new CorsPolicy(options.Origins, hosts),
            new QueuePolicy(options.Concurrency.QueueTimeout, time),
            options.Limits,
            new ForwardPolicy(options.Limits.IdleTimeout, StripAuthorization: apiKeysEnabled && !options.Security.ForwardAuthorization),
            options.Lifecycle);
    }
}
