using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Routing;
using Microsoft.Extensions.Logging;

namespace Gollamas.Fleet;

/// <summary>
/// Reads each server's <c>/api/tags</c> once the proxy has started (without holding the start
/// up) and after each snapshot swap, and warns once per model and server about a configured model
/// that server does not have, naming the closest ones it has:
/// <c>Model qwen3 is not on 'gpu1' (http://10.0.0.5:11434/); it has qwen3:8b, qwen3:30b</c>.
/// A mistyped tag otherwise shows only as a 404 at the first request.
/// </summary>
/// <remarks>
/// A server that cannot be reached is not reported here: the health monitor's start-up probe
/// already warns about it. Its models are checked (at Debug only, until then) once it answers a
/// probe. A server that answers <c>/api/tags</c> with 4xx (a gateway wanting each client's key)
/// is not asked again.
/// </remarks>
internal sealed partial class ModelInventoryCheck : IAsyncDisposable
{
    private const int ClosestShown = 3;

    private readonly ProxySnapshotHolder _snapshots;
    private readonly HealthMonitor _health;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();

    // Under _lock: the snapshot whose models are checked, the servers not reached for it (checked
    // when they next answer a probe), the (model, server) pairs warned about and still missing,
    // and the checks running (awaited on stop).
    private readonly Lock _lock = new();
    private readonly HashSet<Connection> _unreached = [];
    private readonly HashSet<(string Canonical, Connection Connection)> _reported = new(ReportKeyComparer.Instance);
    private readonly List<Task> _checks = [];
    private ProxySnapshot? _snapshot;
    private bool _stopped;

    /// <param name="snapshots">Whose models and servers are checked; followed on every swap.</param>
    /// <param name="health">Whose successful probes bring the check of a server not reached before.</param>
    /// <param name="timeout">How long one read of <c>/api/tags</c> may take (the probe timeout).</param>
    /// <param name="time">The clock of that timeout.</param>
    /// <param name="logger">Where missing models are reported.</param>
    public ModelInventoryCheck(ProxySnapshotHolder snapshots, HealthMonitor health, TimeSpan timeout, TimeProvider time, ILogger<ModelInventoryCheck> logger)
    {
        _snapshots = snapshots;
        _health = health;
        _timeout = timeout;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised after each check of a server ended, whatever its outcome (tests wait on it).</summary>
    public event Action<Connection>? Checked;

    /// <summary>Checks the current snapshot's servers in the background; returns at once. From then on it follows every swap.</summary>
    public void Start()
    {
        _health.ProbeSucceeded += OnProbeSucceeded;
        _snapshots.Swapped += OnSwapped;
        OnSwapped(_snapshots.Current);
    }

    public async ValueTask DisposeAsync()
    {
        _health.ProbeSucceeded -= OnProbeSucceeded;
        _snapshots.Swapped -= OnSwapped;
        Task[] checks;
        lock (_lock)
        {
            _stopped = true;
            checks = [.. _checks];
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(checks);
        _stopping.Dispose();
    }

    // Every server a new snapshot routes a configured model to is checked again: the models may
    // have changed, and so may the servers.
    private void OnSwapped(ProxySnapshot snapshot)
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _snapshot = snapshot;
            _unreached.Clear();
            _reported.RemoveWhere(key => !snapshot.Routes.Models.Any(route =>
                route.IsServedBy(key.Connection) && string.Equals(route.Canonical, key.Canonical, StringComparison.OrdinalIgnoreCase)));
            foreach (var connection in snapshot.Connections)
            {
                if (snapshot.Routes.Models.Any(route => route is { IsRunning: false, IsDiscovered: false } && route.IsServedBy(connection)))
                {
                    StartCheck(connection, snapshot);
                }
            }
        }
    }

    private void OnProbeSucceeded(Connection connection)
    {
        lock (_lock)
        {
            if (!_stopped && _snapshot is { } snapshot && _unreached.Remove(connection))
            {
                StartCheck(connection, snapshot);
            }
        }
    }

    // Under _lock.
    private void StartCheck(Connection connection, ProxySnapshot snapshot)
    {
        _checks.RemoveAll(static check => check.IsCompleted);
        _checks.Add(CheckAsync(connection, snapshot, _stopping.Token));
    }

    private async Task CheckAsync(Connection connection, ProxySnapshot snapshot, CancellationToken cancellationToken)
    {
        // Off the caller's thread: start-up and a swap do not wait for any server.
        await Task.Yield();
        try
        {
            await CheckOnceAsync(connection, snapshot, cancellationToken);
        }
        finally
        {
            Checked?.Invoke(connection);
        }
    }

    private async Task CheckOnceAsync(Connection connection, ProxySnapshot snapshot, CancellationToken cancellationToken)
    {
        using var answer = await ServerQuery.GetJsonAsync(connection, "/api/tags", _timeout, _time, cancellationToken);
        if (cancellationToken.IsCancellationRequested || answer.Retired)
        {
            return;
        }

        if (answer.Document is null)
        {
            lock (_lock)
            {
                // A 4xx says the server will not tell; no answer or a 5xx, that it cannot yet.
                if (_snapshot == snapshot && (!answer.Reached || HealthMonitor.IsServerFailure(answer.Status)))
                {
                    _unreached.Add(connection);
                }
            }

            Log.NotChecked(_logger, connection.DisplayName, answer.Problem!);
            return;
        }

        var inventory = ModelInventory.Read(answer.Document);
        var configured = 0;
        var missing = 0;
        foreach (var route in snapshot.Routes.Models)
        {
            if (route.IsRunning || route.IsDiscovered || !route.IsServedBy(connection) || !ModelName.TryParse(route.Name, out var name))
            {
                continue;
            }

            configured++;
            var has = inventory.Has(route.Canonical);
            bool report;
            lock (_lock)
            {
                if (_snapshot != snapshot)
                {
                    return; // a newer snapshot is checked instead
                }

                // Once per model and server; a model that came back is reported again if it goes.
                if (has)
                {
                    _reported.Remove((route.Canonical, connection));
                    report = false;
                }
                else
                {
                    report = _reported.Add((route.Canonical, connection));
                }
            }

            if (!has)
            {
                missing++;
            }

            if (report)
            {
                Log.Missing(_logger, route.Name, connection.DisplayName, inventory.DescribeClosest(name, ClosestShown));
            }
        }

        Log.Checked(_logger, connection.DisplayName, missing, configured, inventory.Count);
    }

    /// <summary>Model names compare as Ollama compares them (case aside); servers by identity.</summary>
    private sealed class ReportKeyComparer : IEqualityComparer<(string Canonical, Connection Connection)>
    {
        public static ReportKeyComparer Instance { get; } = new();

        public bool Equals((string Canonical, Connection Connection) x, (string Canonical, Connection Connection) y) =>
            ReferenceEquals(x.Connection, y.Connection) && StringComparer.OrdinalIgnoreCase.Equals(x.Canonical, y.Canonical);

        public int GetHashCode((string Canonical, Connection Connection) key) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(key.Canonical), key.Connection);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ModelMissing, LogLevel.Warning, "Model {Model} is not on {Backend}; it has {Closest}", EventName = "ModelMissing")]
        public static partial void Missing(ILogger logger, string model, string backend, string closest);

        [LoggerMessage(LogEventIds.ModelsChecked, LogLevel.Debug, "Models of {Backend} checked: {Missing} of {Configured} configured missing, {Listed} listed", EventName = "ModelsChecked")]
        public static partial void Checked(ILogger logger, string backend, int missing, int configured, int listed);

        [LoggerMessage(LogEventIds.ModelsNotChecked, LogLevel.Debug, "Models of {Backend} not checked: {Reason}", EventName = "ModelsNotChecked")]
        public static partial void NotChecked(ILogger logger, string backend, string reason);
    }
}
