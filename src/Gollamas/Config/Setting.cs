namespace Gollamas.Config;

/// <summary>
/// One setting, described once: its flag and aliases, its variables, its help with an example,
/// its default and its kind. The command line and the environment (and any later source) are
/// read from these rows, and <see cref="ConfigParser"/> runs every row of <see cref="Settings"/>
/// in table order to build the options.
/// </summary>
/// <remarks>
/// A row of this type only describes a setting: its value is read by a combining step that
/// reads several settings together (the routes, at the --proxy row's <see cref="Combine"/>; the
/// lifecycle settings, after every row).
/// <see cref="Setting{T}"/> and <see cref="ListSetting{T}"/> also parse their value and put it in
/// its place in <see cref="GollamasOptions"/>, each with a static lambda: no reflection, so the
/// table is as trim- and AOT-safe as hand-written code.
/// </remarks>
internal class Setting
{
    private const string VariablePrefix = "GOLLAMAS_";

    /// <summary>The flag, as help lists it first: <c>--listen</c>.</summary>
    public required string Flag { get; init; }

    /// <summary>Other spellings of the flag: <c>-a</c>, <c>--addr</c>.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The variable that stands in for the flag: <c>GOLLAMAS_LISTEN</c>.</summary>
    public required string Variable { get; init; }

    /// <summary>
    /// A variable read when <see cref="Variable"/> is unset: gollamas' unprefixed name
    /// (<c>LISTEN</c>), or Ollama's own (<c>OLLAMA_ORIGINS</c>), honoured as Ollama honours it.
    /// </summary>
    public string? LegacyVariable { get; init; }

    /// <summary>The value's placeholder in help (<c>HOST:PORT</c>); none for a switch.</summary>
    public string? HelpName { get; init; }

    /// <summary>What the setting does, ending with an example: "... Example: --listen 0.0.0.0:11434".</summary>
    public required string Help { get; init; }

    /// <summary>The value when no source gives one, written as an operator would write it; null: none.</summary>
    public string? Default { get; init; }

    public required SettingKind Kind { get; init; }

    /// <summary>
    /// Whether a reload of the configuration applies a new value to the running proxy: the value
    /// lives in the snapshot (<c>Routing/ProxySnapshot</c>) or in a connection's settings. A
    /// change of any other setting waits for a restart, and the reload says so.
    /// </summary>
    public bool Live { get; init; }

    /// <summary>For <see cref="SettingKind.Pairs"/>: the plural flag that holds a comma list (<c>--proxies</c>).</summary>
    public string? ListFlag { get; init; }

    /// <summary>For <see cref="SettingKind.Pairs"/>: the help of <see cref="ListFlag"/>, ending with an example.</summary>
    public string? ListHelp { get; init; }

    /// <summary>
    /// A step run at this row's place, after its own value is in: the combining step of settings
    /// read together (--proxy, --connection and --alias; --max-concurrency), or a check
    /// across settings (a certificate needs its key).
    /// </summary>
    public Action<OptionsDraft>? Combine { get; init; }

    /// <summary>Given on the command line or in the environment only, never in a configuration file (<c>--config</c> itself).</summary>
    public bool NotInFile { get; init; }

    /// <summary>
    /// The setting's key in a configuration file: its variable without <c>GOLLAMAS_</c>, in lower
    /// case (<c>health_interval</c>, <c>api_keys</c>), unless the row names another; null when
    /// <see cref="NotInFile"/>.
    /// </summary>
    public string? FileKey
    {
        get => NotInFile ? null : field ?? KeyOf(Variable);
        init;
    }

    /// <summary>The file key a variable stands for: <c>GOLLAMAS_HEALTH_INTERVAL</c> is <c>health_interval</c>.</summary>
    public static string KeyOf(string variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var name = variable.StartsWith(VariablePrefix, StringComparison.Ordinal) ? variable[VariablePrefix.Length..] : variable;
        return name.ToLowerInvariant();
    }

    /// <summary>"--tls-key/GOLLAMAS_TLS_KEY": names a missing setting by every way it could be given.</summary>
    public string Sources => $"{Flag}/{Variable}";

    /// <summary>The "[env: GOLLAMAS_X, X]" end of the help of the flag the variables stand in for.</summary>
    public string EnvironmentHelp => LegacyVariable is null ? $"[env: {Variable}]" : $"[env: {Variable}, {LegacyVariable}]";

    /// <summary>Reads this row's value from the draft's input into its options, then runs <see cref="Combine"/>.</summary>
    public virtual void ReadInto(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        Combine?.Invoke(draft);
    }

    /// <summary>The problems of <see cref="Default"/> read by the row's own parser: none in a sound table.</summary>
    public virtual IReadOnlyList<ConfigError> CheckDefault() => [];
}
