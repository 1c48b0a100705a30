using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Metrics;
using Gollamas.Routing;
using Microsoft.Extensions.Logging;

namespace Gollamas.Hosting;

/// <summary>
/// Reads the configuration again and puts it in force: a new snapshot built from it and swapped
/// in (<see cref="ProxyServer.Reconfigure"/>), or, when the configuration has problems, nothing
/// changed and every problem logged. One reload runs at a time; the triggers (a change of the
/// file, SIGHUP) call <see cref="ReloadAsync"/>.
/// </summary>
/// <remarks>
/// Requests in flight keep the snapshot they started with, so a reload never changes what they
/// do: streams run to their end on the connections they had. A setting a swap cannot apply
/// (<see cref="Setting.Live"/> false: the listen address, TLS, the health interval...) keeps its
/// value until a restart, and each reload that finds it changed says so.
/// </remarks>
internal sealed partial class ConfigReloader : IDisposable
{
    private readonly ProxyServer _server;
    private readonly ConfigSource _source;
    private readonly ProxyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    // What the process started with: the settings a reload cannot change keep these values.
    private readonly ConfigInput _started;

    // The problems of the last failed reload, so the same ones are not all logged again.
    private IReadOnlyList<string> _lastProblems = [];

    public ConfigReloader(ProxyServer server, ConfigSource source, ProxyMetrics metrics, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(source);
        _server = server;
        _source = source;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _started = source.Initial.Input ?? new ConfigInput();
    }

    /// <summary>
    /// Reads the configuration and swaps it in. Returns whether it is now in force; false leaves
    /// the running configuration as it was.
    /// </summary>
    /// <param name="trigger">What asked for it, for the log: "SIGHUP", "a change of the file".</param>
    public async Task<bool> ReloadAsync(string trigger) => (await ReloadWithReportAsync(trigger)).Succeeded;

    /// <summary>As <see cref="ReloadAsync"/>, answering what changed or why nothing did.</summary>
    public async Task<ReloadReport> ReloadWithReportAsync(string trigger)
    {
        await _oneAtATime.WaitAsync();
        try
        {
            // Reading is file I/O and parsing: off the signal's or the watcher's thread.
            var reading = await Task.Run(_source.Read);
            if (reading.Options is not { } options)
            {
                return Failed(trigger, reading.Errors.Select(static e => e.ToString()).ToArray());
            }

            var needRestart = new List<string>();
            foreach (var setting in ConfigComparison.NeedRestart(_started, reading.Input ?? new ConfigInput()))
            {
                Log.NeedsRestart(_logger, setting.Flag);
                needRestart.Add(setting.Flag);
            }

            var before = _server.Snapshots.Current;
            var after = _server.Reconfigure(options);
            _lastProblems = [];
            _metrics.RecordConfigReload(succeeded: true, _time.GetUtcNow());
            var changes = Describe(before, after);
            Log.Reloaded(_logger, trigger, after.Routes.Models.Count, after.Connections.Count, changes);
            return new ReloadReport(true, changes, after.Routes.Models.Count, after.Connections.Count, [], needRestart);
        }
#pragma warning disable CA1031 // A reload that breaks must leave the proxy serving with what it had, and say why.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.UnexpectedDetail(_logger, ex);
            // The type says what failed in a bug report; the message would be a resource key.
            return Failed(trigger, [$"an unexpected error in gollamas ({ex.GetType().FullName}; its details are logged at debug level)"]);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose() => _oneAtATime.Dispose();

    private ReloadReport Failed(string trigger, string[] problems)
    {
        _metrics.RecordConfigReload(succeeded: false, _time.GetUtcNow());
        var same = problems.SequenceEqual(_lastProblems, StringComparer.Ordinal);
        Log.ReloadFailed(_logger, trigger, problems.Length == 1 ? "1 problem" : $"{problems.Length} problems", same ? " (the same as the last time)" : "");
        if (!same)
        {
            foreach (var problem in problems)
            {
                Log.Problem(_logger, problem);
            }
        }

        _lastProblems = problems;
        var current = _server.Snapshots.Current;
        return new ReloadReport(false, null, current.Routes.Models.Count, current.Connections.Count, problems, []);
    }

    // "models added: qwen3:8b; connections retired: cpu1", or "nothing added or removed".
    private static string Describe(ProxySnapshot before, ProxySnapshot after)
    {
        var oldModels = before.Routes.Models.Select(static m => m.Name).ToHashSet(StringComparer.Ordinal);
        var newModels = after.Routes.Models.Select(static m => m.Name).ToHashSet(StringComparer.Ordinal);
        var oldConnections = before.Connections.Select(static c => c.Id).ToHashSet(StringComparer.Ordinal);
        var newConnections = after.Connections.Select(static c => c.Id).ToHashSet(StringComparer.Ordinal);
        var parts = new List<string>(4);
        Add(parts, "models added", newModels.Except(oldModels));
        Add(parts, "models removed", oldModels.Except(newModels));
        Add(parts, "connections added", newConnections.Except(oldConnections));
        Add(parts, "connections retired", oldConnections.Except(newConnections));
        return parts.Count == 0 ? "no model or connection added or removed" : string.Join("; ", parts);

        static void Add(List<string> parts, string what, IEnumerable<string> names)
        {
            var list = names.Order(StringComparer.Ordinal).ToArray();
            if (list.Length > 0)
            {
                parts.Add($"{what}: {string.Join(", ", list)}");
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ConfigReloaded, LogLevel.Information, "Configuration reloaded after {Trigger}: {Models} models on {Connections} connections; {Changes}", EventName = "ConfigReloaded")]
        public static partial void Reloaded(ILogger logger, string trigger, int models, int connections, string changes);

        [LoggerMessage(LogEventIds.ConfigReloadFailed, LogLevel.Error, "Configuration not reloaded after {Trigger}: {Problems}{Same}; the running configuration stays in force", EventName = "ConfigReloadFailed")]
        public static partial void ReloadFailed(ILogger logger, string trigger, string problems, string same);

        [LoggerMessage(LogEventIds.ConfigProblem, LogLevel.Error, "Configuration problem: {Problem}", EventName = "ConfigProblem")]
        public static partial void Problem(ILogger logger, string problem);

        [LoggerMessage(LogEventIds.ConfigNeedsRestart, LogLevel.Warning, "Configuration: {Setting} changed, and needs a restart to take effect; it keeps its value until then", EventName = "ConfigNeedsRestart")]
        public static partial void NeedsRestart(ILogger logger, string setting);

        [LoggerMessage(LogEventIds.ConfigReloadUnexpected, LogLevel.Debug, "The configuration reload failed unexpectedly", EventName = "ConfigReloadUnexpected")]
        public static partial void UnexpectedDetail(ILogger logger, Exception exception);
    }
}
