using Gollamas.Config;

namespace Gollamas.Cli;

/// <summary>
/// Reads the environment variables that stand in for flags not given on the command line:
/// <c>GOLLAMAS_X</c> first, then gollamas' legacy unprefixed <c>X</c>. A variable that is set
/// but empty (or only whitespace) counts as unset, so <c>LISTEN=</c> in a compose file does not
/// silently override the default.
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

    /// <summary>Ollama's own variable for the same setting, honoured as Ollama honours it.</summary>
    public const string OllamaOrigins = "OLLAMA_ORIGINS";

    private readonly Func<string, string?> _getEnvironmentVariable = getEnvironmentVariable;

    /// <summary>The value of <c>GOLLAMAS_{name}</c> or else <c>{name}</c>, with the variable it came from.</summary>
    public ConfigEntry? Find(string name) => Find(name, name);

    /// <summary>The value of <c>GOLLAMAS_{name}</c> or else <c>{legacyName}</c>, with the variable it came from.</summary>
    public ConfigEntry? Find(string name, string legacyName)
    {
        var prefixed = Prefix + name;
        var value = _getEnvironmentVariable(prefixed);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return new ConfigEntry(value, prefixed);
        }

        value = _getEnvironmentVariable(legacyName);
        return string.IsNullOrWhiteSpace(value) ? null : new ConfigEntry(value, legacyName);
    }

    /// <summary>The "[env: GOLLAMAS_X, X]" suffix of a flag's help text.</summary>
    public static string HelpSuffix(string name) => HelpSuffix(name, name);

    /// <summary>The "[env: GOLLAMAS_X, LEGACY]" suffix of a flag's help text.</summary>
    public static string HelpSuffix(string name, string legacyName) => $"[env: {Prefix}{name}, {legacyName}]";
}
