using System.Threading.Channels;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Routing;
using Microsoft.Extensions.Logging;

namespace Gollamas.Fleet;

/// <summary>
/// Reads the models of every discovering connection (<c>--discover</c>): its <c>/api/tags</c>,
/// at start-up, every health interval, and at once for a connection a new snapshot names that
/// was never read. Each server's list is kept on its <see cref="Connection"/>
/// (<see cref="Connection.SetListed"/>); when one changed, the routes are built again
/// (<c>rebuild</c>: the proxy builds a snapshot from the configuration in force and the lists,
/// and swaps it). A server that does not answer keeps the list it last gave: whether it is up
/// is the health monitor's business, which already skips it when it is down.
/// </summary>
/// <remarks>
/// One round at a time, on one loop. Requests never wait for it; they read the snapshot.
/// </remarks>
internal sealed partial class ModelDiscovery : IAsyncDisposable
{
    private const int NamesShown = 8;

    private readonly ProxySnapshotHolder _snapshots;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly Action _rebuild;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private ITimer? _timer;
    private Task _loop = Task.CompletedTask;

    // The routes of the last snapshot seen swapped in: a swap whose configuration names an alias
    // it did not is checked against the lists already read.
    private RouteTable? _lastRoutes;

    /// <param name="snapshots">Whose discovering connections are read; followed on every swap.</param>
    /// <param name="interval">How often every list is read again (the health interval).</param>
    /// <param name="timeout">How long one read may take (the probe timeout).</param>
    /// <param name="time">The clock of both.</param>
    /// <param name="rebuild">Builds and swaps the snapshot again, from the lists now on the connections.</param>
    /// <param name="logger">Where changes of a server's models are said.</param>
    public ModelDiscovery(ProxySnapshotHolder snapshots, TimeSpan interval, TimeSpan timeout, TimeProvider time, Action rebuild, ILogger<ModelDiscovery> logger)
    {
        _snapshots = snapshots;
        _interval = interval;
        _timeout = timeout;
        _time = time;
        _rebuild = rebuild;
        _logger = logger;
    }

    /// <summary>Raised after each round, whatever it found (tests wait on it).</summary>
    public event Action? RoundCompleted;

    /// <summary>
    /// Reads every discovering connection of the current snapshot now, and builds the routes
    /// again if a list changed. Start-up awaits the first round, so the models a server has are
    /// routed when the proxy says where it listens.
    /// </summary>
    public async Task RefreshAsync()
    {
        var discovery = _snapshots.Current.Routes.Discovery;
        if (discovery.Count == 0)
        {
            return;
        }

        var changed = await Task.WhenAll(discovery.Select(d => ReadAsync(d.Connection, d.Rule)));
        if (changed.Any(static c => c))
        {
            _rebuild();
        }

        RoundCompleted?.Invoke();
    }

    /// <summary>Reads the lists again every interval, and for each new snapshot that names a connection never read.</summary>
    public void Start()
    {
        Volatile.Write(ref _lastRoutes, _snapshots.Current.Routes);
        _snapshots.Swapped += OnSwapped;
        _timer = _time.CreateTimer(static state => ((ModelDiscovery)state!)._wake.Writer.TryWrite(true), this, _interval, _interval);
        _loop = LoopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _snapshots.Swapped -= OnSwapped;
        if (_timer is not null)
        {
            await _timer.DisposeAsync();
        }

        _wake.Writer.TryComplete();
        await _stopping.CancelAsync();
        await _loop;
        _stopping.Dispose();
    }

    private void OnSwapped(ProxySnapshot snapshot)
    {
        var before = Interlocked.Exchange(ref _lastRoutes, snapshot.Routes);
        if (before is not null)
        {
            WarnOfNewAliases(before, snapshot.Routes);
        }

        // Only a connection never read: the swap of a round's own rebuild wakes nothing.
        if (snapshot.Routes.Discovery.Any(static d => d.Connection.Listed is null))
        {
            _wake.Writer.TryWrite(true);
        }
    }

    private async Task LoopAsync()
    {
        try
        {
            while (await _wake.Reader.WaitToReadAsync(_stopping.Token))
            {
                _wake.Reader.TryRead(out _);
                await RefreshAsync();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    // Whether the server's list changed.
    private async Task<bool> ReadAsync(Connection connection, DiscoveryRule rule)
    {
        using var answer = await ServerQuery.GetJsonAsync(connection, "/api/tags", _timeout, _time, _stopping.Token);
        if (answer.Document is null)
        {
            if (!answer.Retired)
            {
                Log.NotRead(_logger, connection.DisplayName, answer.Problem ?? "no answer");
            }

            return false;
        }

        // Only names Ollama accepts (ModelInventory's reading): what a server sends is foreign
        // text, and these names go to routes, logs and metric labels.
        var models = ModelInventory.Read(answer.Document).Models;
        var before = connection.Listed;
        if (!connection.SetListed(models))
        {
            return false;
        }

        // Loops rather than LINQ over ModelName (a struct): each LINQ operator would be compiled
        // again for it into the binary.
        var admitted = Admitted(models, rule, except: null);
        if (before is null)
        {
            Log.Found(_logger, connection.DisplayName, models.Count == 1 ? "1 model" : $"{models.Count} models", admitted.Count, rule.Describe(), Names(admitted));
            WarnOfAliasNames(connection, admitted);
        }
        else
        {
            var old = Admitted(before, rule, except: null);
            var added = Admitted(admitted, rule, except: Canonicals(old));
            var gone = Admitted(old, rule, except: Canonicals(admitted));
            if (added.Count > 0 || gone.Count > 0)
            {
                Log.Changed(_logger, connection.DisplayName, added.Count == 0 ? "none" : Names(added), gone.Count == 0 ? "none" : Names(gone));
            }

            WarnOfAliasNames(connection, added);
        }

        return true;
    }

    // A model listed under the name of a configured alias is not routed (the alias keeps its
    // name): said once, when the server first lists it (a reload that makes its name an alias
    // says it in WarnOfNewAliases).
    private void WarnOfAliasNames(Connection connection, List<ModelName> listed)
    {
        var routes = _snapshots.Current.Routes;
        foreach (var model in listed)
        {
            if (routes.AliasTarget(model) is { } target)
            {
                Log.ListedUnderAnAlias(_logger, connection.DisplayName, model.DisplayShortest, target);
            }
        }
    }

    // The models the discovering connections already listed that the new routes would take but
    // an alias hides, where the old ones did not say so: a new alias, or a rule that now admits
    // the model.
    private void WarnOfNewAliases(RouteTable before, RouteTable after)
    {
        foreach (var discovering in after.Discovery)
        {
            if (discovering.Connection.Listed is not { } listed)
            {
                continue;
            }

            var oldRule = before.Discovery.FirstOrDefault(d => ReferenceEquals(d.Connection, discovering.Connection))?.Rule;
            foreach (var model in listed)
            {
                if (discovering.Rule.Admits(model) && after.AliasTarget(model) is { } target
                    && (before.AliasTarget(model) is null || oldRule?.Admits(model) != true))
                {
                    Log.ListedUnderAnAlias(_logger, discovering.Connection.DisplayName, model.DisplayShortest, target);
                }
            }
        }
    }

    // The models the rule admits, but those in except.
    private static List<ModelName> Admitted(IReadOnlyList<ModelName> models, DiscoveryRule rule, HashSet<string>? except)
    {
        var admitted = new List<ModelName>(models.Count);
        foreach (var model in models)
        {
            if (rule.Admits(model) && except?.Contains(model.Canonical) != true)
            {
                admitted.Add(model);
            }
        }

        return admitted;
    }

    private static HashSet<string> Canonicals(List<ModelName> models)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var model in models)
        {
            names.Add(model.Canonical);
        }

        return names;
    }

    // "llama3.2:latest, qwen3:8b and 12 more", "none".
    private static string Names(List<ModelName> models)
    {
        if (models.Count == 0)
        {
            return "none";
        }

        var names = new List<string>(Math.Min(models.Count, NamesShown));
        for (var i = 0; i < models.Count && i < NamesShown; i++)
        {
            names.Add(models[i].DisplayShortest);
        }

        var shown = string.Join(", ", names);
        return models.Count > NamesShown ? $"{shown} and {models.Count - NamesShown} more" : shown;
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ModelsDiscovered, LogLevel.Information, "Ollama server {Connection} lists {Count}; --discover ({Rule}) takes {Routed}: {Models}", EventName = "ModelsDiscovered")]
        public static partial void Found(ILogger logger, string connection, string count, int routed, string rule, string models);

        [LoggerMessage(LogEventIds.DiscoveredModelsChanged, LogLevel.Information, "Ollama server {Connection} models changed: new {Added}; gone {Gone}", EventName = "DiscoveredModelsChanged")]
        public static partial void Changed(ILogger logger, string connection, string added, string gone);

        [LoggerMessage(LogEventIds.DiscoveredModelIsAnAlias, LogLevel.Warning, "Ollama server {Connection} lists {Model}, but that name is configured as an alias of {Target}: the alias wins, and the server's own {Model} is not routed", EventName = "DiscoveredModelIsAnAlias")]
        public static partial void ListedUnderAnAlias(ILogger logger, string connection, string model, string target);

        [LoggerMessage(LogEventIds.DiscoveryFailed, LogLevel.Debug, "Ollama server {Connection} models not read: {Reason}; its last list stays", EventName = "DiscoveryFailed")]
        public static partial void NotRead(ILogger logger, string connection, string reason);
    }
}
