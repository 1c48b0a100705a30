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

    private readonly Func<string, string?> _getEnvironmentVariable = getEnvironmentVariable;

    /// <summary>The value of <c>GOLLAMAS_{name}</c> or else <c>{name}</c>, with the variable it came from.</summary>
    public ConfigEntry? Find(string name)
    {
        var prefixed = Prefix + name;
        var value = _getEnvironmentVariable(prefixed);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return new ConfigEntry(value, prefixed);
        }

        value = _getEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : new ConfigEntry(value, name);
    }

    /// <summary>The "[env: GOLLAMAS_X, X]" suffix of a flag's help text.</summary>
    public static string HelpSuffix(string name) => $"[env: {Prefix}{name}, {name}]";
}
