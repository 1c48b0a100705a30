using Gollamas.Config;

namespace Gollamas.Cli;

/// <summary>
/// Reads the environment variables that stand in for flags not given on the command line: a
/// row's <c>GOLLAMAS_X</c> first, then its legacy variable (gollamas' unprefixed <c>X</c>, or
/// Ollama's <c>OLLAMA_ORIGINS</c>) if it has one. A variable that is set but empty (or only
/// whitespace) counts as unset, so <c>LISTEN=</c> in a compose file does not silently override
/// the default.
/// </summary>
internal sealed class EnvironmentDefaults(Func<string, string?> getEnvironmentVariable)
{
    private readonly Func<string, string?> _getEnvironmentVariable = getEnvironmentVariable;

    /// <summary>The value of the setting's variable, or else of its legacy one, with the variable it came from.</summary>
    public ConfigEntry? Find(Setting setting)
    {
        ArgumentNullException.ThrowIfNull(setting);
        return Read(setting.Variable) ?? (setting.LegacyVariable is { } legacy ? Read(legacy) : null);
    }

    private ConfigEntry? Read(string variable) =>
        _getEnvironmentVariable(variable) is { } value && !string.IsNullOrWhiteSpace(value) ? new ConfigEntry(value, variable) : null;
}
