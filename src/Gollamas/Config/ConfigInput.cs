namespace Gollamas.Config;

/// <summary>
/// Everything the sources (the command line, the environment) supplied, still unvalidated: for
/// each row of <see cref="Settings"/> that was given, its entries, one per item of a list
/// (already split), in declaration order, each naming the flag or variable it came from.
/// </summary>
/// <remarks>
/// A source fills it with <see cref="With"/>, knowing nothing of any setting but its row; a
/// setting that is not given is absent, and its row's default applies. The named properties are
/// the same entries typed for the combining steps and for tests; a setting read only by its row
/// needs none.
/// </remarks>
internal sealed record ConfigInput
{
    public ConfigInput()
    {
    }

    public ConfigInput(
        ConfigEntry? listen,
        ConfigEntry? level,
        IReadOnlyList<ConfigEntry> proxies,
        IReadOnlyList<ConfigEntry> connections,
        IReadOnlyList<ConfigEntry> aliases,
        ConfigEntry? listAliases)
    {
        Listen = listen;
        Level = level;
        Proxies = proxies;
        Connections = connections;
        Aliases = aliases;
        ListAliases = listAliases;
    }

    /// <summary>
    /// Reads an environment variable that a value refers to (<c>env:OLLAMA_KEY</c>), not one
    /// standing in for a flag; the command line sets it, so tests need not touch the real environment.
    /// </summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = static _ => null;

    /// <summary>
    /// The configuration file's bytes as they were read, so a watch of the file compares later
    /// contents with this one; empty without a file.
    /// </summary>
    public ReadOnlyMemory<byte> FileContent { get; init; }

    private Dictionary<Setting, IReadOnlyList<ConfigEntry>> Given { get; init; } =
        new Dictionary<Setting, IReadOnlyList<ConfigEntry>>();

    /// <summary>The entries given for <paramref name="setting"/>; empty when it was not given.</summary>
    public IReadOnlyList<ConfigEntry> this[Setting setting] => Given.TryGetValue(setting, out var entries) ? entries : [];

    /// <summary>The one entry given for a single-valued <paramref name="setting"/>, or null.</summary>
    public ConfigEntry? Single(Setting setting) => this[setting] is [var entry, ..] ? entry : null;

    /// <summary>This input with <paramref name="entries"/> as the value of <paramref name="setting"/> (none: not given).</summary>
    public ConfigInput With(Setting setting, IReadOnlyList<ConfigEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(setting);
        ArgumentNullException.ThrowIfNull(entries);
        return this with { Given = Set(setting, entries) };
    }

    /// <summary>This input with <paramref name="entry"/> as the value of <paramref name="setting"/> (null: not given).</summary>
    public ConfigInput With(Setting setting, ConfigEntry? entry) => With(setting, entry is { } given ? [given] : []);

    public ConfigEntry? Listen { get => Single(Settings.Listen); init => Given = Set(Settings.Listen, value); }

    public ConfigEntry? Level { get => Single(Settings.Level); init => Given = Set(Settings.Level, value); }

    public IReadOnlyList<ConfigEntry> Proxies { get => this[Settings.Proxies]; init => Given = Set(Settings.Proxies, value); }

    public IReadOnlyList<ConfigEntry> Connections { get => this[Settings.Connections]; init => Given = Set(Settings.Connections, value); }

    public IReadOnlyList<ConfigEntry> Aliases { get => this[Settings.Aliases]; init => Given = Set(Settings.Aliases, value); }

    public ConfigEntry? ListAliases { get => Single(Settings.ListAliases); init => Given = Set(Settings.ListAliases, value); }

    public IReadOnlyList<ConfigEntry> Origins { get => this[Settings.Origins]; init => Given = Set(Settings.Origins, value); }

    public ConfigEntry? HealthInterval { get => Single(Settings.HealthInterval); init => Given = Set(Settings.HealthInterval, value); }

    public ConfigEntry? HealthTimeout { get => Single(Settings.HealthTimeout); init => Given = Set(Settings.HealthTimeout, value); }

    public ConfigEntry? HealthFailures { get => Single(Settings.HealthFailures); init => Given = Set(Settings.HealthFailures, value); }

    public IReadOnlyList<ConfigEntry> MaxConcurrency { get => this[Settings.MaxConcurrency]; init => Given = Set(Settings.MaxConcurrency, value); }

    public ConfigEntry? QueueLength { get => Single(Settings.QueueLength); init => Given = Set(Settings.QueueLength, value); }

    public ConfigEntry? QueueTimeout { get => Single(Settings.QueueTimeout); init => Given = Set(Settings.QueueTimeout, value); }

    public ConfigEntry? AllowRunning { get => Single(Settings.AllowRunning); init => Given = Set(Settings.AllowRunning, value); }

    public IReadOnlyList<ConfigEntry> KeepAlive { get => this[Settings.KeepAlive]; init => Given = Set(Settings.KeepAlive, value); }

    public IReadOnlyList<ConfigEntry> ForceKeepAlive { get => this[Settings.ForceKeepAlive]; init => Given = Set(Settings.ForceKeepAlive, value); }

    public IReadOnlyList<ConfigEntry> NumCtx { get => this[Settings.NumCtx]; init => Given = Set(Settings.NumCtx, value); }

    public IReadOnlyList<ConfigEntry> ForceNumCtx { get => this[Settings.ForceNumCtx]; init => Given = Set(Settings.ForceNumCtx, value); }

    public IReadOnlyList<ConfigEntry> Preload { get => this[Settings.Preload]; init => Given = Set(Settings.Preload, value); }

    /// <summary>Request rules (defaults, forced values, strips) from sources other than the lifecycle flags, in their order.</summary>
    public IReadOnlyList<RequestRuleEntry> RequestRules { get; init; } = [];

    public ConfigEntry? PingInterval { get => Single(Settings.PingInterval); init => Given = Set(Settings.PingInterval, value); }

    public ConfigEntry? MaxBodySize { get => Single(Settings.MaxBodySize); init => Given = Set(Settings.MaxBodySize, value); }

    public ConfigEntry? BodyTempDir { get => Single(Settings.BodyTempDir); init => Given = Set(Settings.BodyTempDir, value); }

    public ConfigEntry? HeaderTimeout { get => Single(Settings.HeaderTimeout); init => Given = Set(Settings.HeaderTimeout, value); }

    public ConfigEntry? ConnectTimeout { get => Single(Settings.ConnectTimeout); init => Given = Set(Settings.ConnectTimeout, value); }

    public ConfigEntry? IdleTimeout { get => Single(Settings.IdleTimeout); init => Given = Set(Settings.IdleTimeout, value); }

    public ConfigEntry? MaxConnections { get => Single(Settings.MaxConnections); init => Given = Set(Settings.MaxConnections, value); }

    public ConfigEntry? DrainTimeout { get => Single(Settings.DrainTimeout); init => Given = Set(Settings.DrainTimeout, value); }

    public ConfigEntry? TlsCertificate { get => Single(Settings.TlsCertificate); init => Given = Set(Settings.TlsCertificate, value); }

    public ConfigEntry? TlsKey { get => Single(Settings.TlsKey); init => Given = Set(Settings.TlsKey, value); }

    public IReadOnlyList<ConfigEntry> ApiKeys { get => this[Settings.ApiKeys]; init => Given = Set(Settings.ApiKeys, value); }

    public ConfigEntry? ApiKeysFile { get => Single(Settings.ApiKeysFile); init => Given = Set(Settings.ApiKeysFile, value); }

    public ConfigEntry? ForwardAuthorization { get => Single(Settings.ForwardAuthorization); init => Given = Set(Settings.ForwardAuthorization, value); }

    public IReadOnlyList<ConfigEntry> AllowedHosts { get => this[Settings.AllowedHosts]; init => Given = Set(Settings.AllowedHosts, value); }

    public ConfigEntry? AccessLog { get => Single(Settings.AccessLog); init => Given = Set(Settings.AccessLog, value); }

    public ConfigEntry? LogFormat { get => Single(Settings.LogFormat); init => Given = Set(Settings.LogFormat, value); }

    public ConfigEntry? Metrics { get => Single(Settings.Metrics); init => Given = Set(Settings.Metrics, value); }

    public ConfigEntry? MetricsListen { get => Single(Settings.MetricsListen); init => Given = Set(Settings.MetricsListen, value); }

    // Never mutates a dictionary: a copy made by "with" shares it until one of them sets a value,
    // which makes a new one (a few dozen entries, at start-up only; System.Collections.Immutable
    // would add its tree to the binary for nothing).
    private Dictionary<Setting, IReadOnlyList<ConfigEntry>> Set(Setting setting, IReadOnlyList<ConfigEntry> entries)
    {
        var given = new Dictionary<Setting, IReadOnlyList<ConfigEntry>>(Given);
        if (entries.Count == 0)
        {
            given.Remove(setting);
        }
        else
        {
            given[setting] = entries;
        }

        return given;
    }

    private Dictionary<Setting, IReadOnlyList<ConfigEntry>> Set(Setting setting, ConfigEntry? entry) =>
        Set(setting, entry is { } given ? [given] : []);
}
