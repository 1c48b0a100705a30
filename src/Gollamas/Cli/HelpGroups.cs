using Gollamas.Config;

namespace Gollamas.Cli;

/// <summary>
/// Which subject each setting is listed under in <c>--help</c>, in the order help lists them:
/// the one table of the help's groups, kept here rather than on the rows of
/// <see cref="Settings"/> (it is the help's arrangement, not the setting's meaning). A setting in
/// no group is still listed, under "Other settings", and a test fails until it is given one.
/// </summary>
internal static class HelpGroups
{
    /// <summary>One subject of the help and its settings, in the order listed.</summary>
    public sealed record Group(string Title, IReadOnlyList<Setting> Settings);

    public static readonly IReadOnlyList<Group> All =
    [
        new("Listening and the configuration file", [Settings.Listen, Settings.Config]),
        new("Routing: models, servers, aliases", [Settings.Proxies, Settings.Connections, Settings.Aliases, Settings.Discover, Settings.AllowRunning, Settings.ListAliases]),
        new("Several servers per model: health and choice", [Settings.HealthInterval, Settings.HealthTimeout, Settings.HealthFailures, Settings.Weight, Settings.NumParallel, Settings.ConnectionHeaders, Settings.ConnectionCas]),
        new("Model lifecycle", [Settings.KeepAlive, Settings.ForceKeepAlive, Settings.NumCtx, Settings.ForceNumCtx, Settings.Preload, Settings.PingInterval]),
        new("Limits and timeouts", [Settings.MaxConcurrency, Settings.QueueLength, Settings.QueueTimeout, Settings.MaxBodySize, Settings.BodyTempDir, Settings.HeaderTimeout, Settings.ConnectTimeout, Settings.IdleTimeout, Settings.MaxConnections, Settings.DrainTimeout]),
        new("Security", [Settings.ApiKeys, Settings.ApiKeysFile, Settings.KeyModels, Settings.KeyConcurrency, Settings.KeyRate, Settings.AdminKeys, Settings.AdminKeysFile, Settings.AdminListen, Settings.ForwardAuthorization, Settings.AllowedHosts, Settings.Origins, Settings.TlsCertificate, Settings.TlsKey]),
        new("Logs and metrics", [Settings.Level, Settings.AccessLog, Settings.AccessLogProbes, Settings.LogFormat, Settings.Metrics, Settings.MetricsListen]),
    ];

    /// <summary>The title of the settings no group names (none in a sound table).</summary>
    public const string OtherTitle = "Other settings";

    /// <summary>The groups, then the settings of <see cref="Settings.All"/> no group names, under <see cref="OtherTitle"/>.</summary>
    public static IReadOnlyList<Group> WithUngrouped()
    {
        var grouped = new HashSet<Setting>(All.SelectMany(static g => g.Settings));
        var other = Settings.All.Where(s => !grouped.Contains(s)).ToArray();
        return other.Length == 0 ? All : [.. All, new Group(OtherTitle, other)];
    }
}
