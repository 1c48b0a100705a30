using Gollamas.Config;

namespace Gollamas.Cli;

/// <summary>
/// Reads the environment variables that stand in for flags not given on the command line:
/// <c>GOLLAMAS_X</c> first, then gollamas' legacy unprefixed <c>X</c>. A variable that is set
/// but empty (or only whitespace) counts as unset, so <c>LISTEN=</c> in a compose file does not
/// silently override the default. Settings gollamas never had are read from <c>GOLLAMAS_X</c> only.
/// </summary>
internal sealed class EnvironmentDefaults(Func<string, string?> getEnvironmentVariable)
{
    public const string Prefix = "GOLLAMAS_";
    public const string Listen = "LISTEN";
    public const string Level = "LEVEL";
    public const string Proxies = "PROXIES";
    public const string Connections = "CONNECTIONS";
    public const string Aliases = "ALIASES";
    public const string ListAliases = "LIST_ALIASES";
    public const string Origins = "ORIGINS";
    public const string HealthInterval = "HEALTH_INTERVAL";
    public const string HealthTimeout = "HEALTH_TIMEOUT";
    public const string HealthFailures = "HEALTH_FAILURES";
    public const string MaxConcurrency = "MAX_CONCURRENCY";
    public const string QueueLength = "QUEUE_LENGTH";
    public const string QueueTimeout = "QUEUE_TIMEOUT";
    public const string AllowRunning = "ALLOW_RUNNING";
    public const string MaxBodySize = "MAX_BODY_SIZE";
    public const string BodyTempDir = "BODY_TEMP_DIR";
    public const string HeaderTimeout = "HEADER_TIMEOUT";
    public const string ConnectTimeout = "CONNECT_TIMEOUT";
    public const string IdleTimeout = "IDLE_TIMEOUT";
    public const string MaxConnections = "MAX_CONNECTIONS";
    public const string DrainTimeout = "DRAIN_TIMEOUT";
    public const string TlsCertificate = "TLS_CERT";
    public const string TlsKey = "TLS_KEY";
    public const string ApiKeys = "API_KEYS";
    public const string ApiKeysFile = "API_KEYS_FILE";
    public const string ForwardAuthorization = "FORWARD_AUTHORIZATION";
    public const string AllowedHosts = "ALLOWED_HOSTS";
    public const string AccessLog = "ACCESS_LOG";
    public const string Metrics = "METRICS";
    public const string MetricsListen = "METRICS_LISTEN";
    public const string LogFormat = "LOG_FORMAT";
    public const string KeepAlive = "KEEP_ALIVE";
    public const string ForceKeepAlive = "FORCE_KEEP_ALIVE";
    public const string NumCtx = "NUM_CTX";
    public const string ForceNumCtx = "FORCE_NUM_CTX";
    public const string Preload = "PRELOAD";
    public const string PingInterval = "PING_INTERVAL";

    /// <summary>Ollama's own variable for the same setting, honoured as Ollama honours it.</summary>
    public const string OllamaOrigins = "OLLAMA_ORIGINS";

    private readonly Func<string, string?> _getEnvironmentVariable = getEnvironmentVariable;

    /// <summary>The value of <c>GOLLAMAS_{name}</c> or else <c>{name}</c>, with the variable it came from.</summary>
    public ConfigEntry? Find(string name) => Find(name, name);

    /// <summary>The value of <c>GOLLAMAS_{name}</c> or else <c>{legacyName}</c>, with the variable it came from.</summary>
    public ConfigEntry? Find(string name, string legacyName) => FindPrefixed(name) ?? Read(legacyName);

    /// <summary>The value of <c>GOLLAMAS_{name}</c> alone, for settings without a legacy variable.</summary>
    public ConfigEntry? FindPrefixed(string name) => Read(Prefix + name);

    private ConfigEntry? Read(string variable) =>
        _getEnvironmentVariable(variable) is { } value && !string.IsNullOrWhiteSpace(value) ? new ConfigEntry(value, variable) : null;

    /// <summary>The "[env: GOLLAMAS_X, X]" suffix of a flag's help text.</summary>
    public static string HelpSuffix(string name) => HelpSuffix(name, name);

    /// <summary>The "[env: GOLLAMAS_X, LEGACY]" suffix of a flag's help text.</summary>
    public static string HelpSuffix(string name, string legacyName) => $"[env: {Prefix}{name}, {legacyName}]";

    /// <summary>The "[env: GOLLAMAS_X]" suffix of a flag without a legacy variable.</summary>
    public static string PrefixedHelpSuffix(string name) => $"[env: {Prefix}{name}]";
}
