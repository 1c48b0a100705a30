using System.Globalization;

namespace Gollamas.Config;

/// <summary>
/// Puts the sources of the configuration together: the command line and the environment (one
/// <see cref="ConfigInput"/>, the flag winning over its variable) and the file that
/// <c>--config</c> names. Per setting, a flag or variable given replaces the file's value
/// entirely; each such replacement is kept for the start-up log.
/// </summary>
/// <remarks>
/// <see cref="Combine"/> is a step of its own so that a file read again later can be combined
/// with the same command line and environment.
/// </remarks>
internal static class ConfigSources
{
    /// <summary>
    /// Reads the file <c>--config</c> names, if any, combines it with
    /// <paramref name="commandLineAndEnvironment"/> and parses the result: valid options (with
    /// the overrides), or every problem found, the file's in the order of its lines first.
    /// A file that cannot be read, or is not YAML, is one problem on its own.
    /// </summary>
    public static bool TryParse(ConfigInput commandLineAndEnvironment, out GollamasOptions? options, out IReadOnlyList<ConfigError> errors)
    {
        var reading = Read(commandLineAndEnvironment);
        options = reading.Options;
        errors = reading.Errors;
        return options is not null;
    }

    /// <summary>
    /// As <see cref="TryParse"/>, with the input the options were parsed from (the command line,
    /// the environment and the file combined): what a reload compares with the next reading.
    /// Never throws for a problem of the configuration.
    /// </summary>
    public static ConfigReading Read(ConfigInput commandLineAndEnvironment)
    {
        ArgumentNullException.ThrowIfNull(commandLineAndEnvironment);
        if (commandLineAndEnvironment.Single(Settings.Config) is not { } path)
        {
            return ConfigReading.Of(commandLineAndEnvironment);
        }

        var fileErrors = new List<ConfigError>();
        if (ConfigFile.Read(path, fileErrors) is not { } file)
        {
            return new ConfigReading(null, null, fileErrors);
        }

        var (input, overrides) = Combine(commandLineAndEnvironment, file);
        var parsed = ConfigParser.TryParse(input, out var parsedOptions, out var parseErrors);
        if (!parsed || fileErrors.Count > 0)
        {
            return new ConfigReading(input, null, InFileOrder([.. fileErrors, .. parseErrors], path.Value.Trim()));
        }

        return new ConfigReading(input, parsedOptions! with { Overrides = overrides }, []);
    }

    /// <summary>
    /// The file's entries for every setting <paramref name="commandLineAndEnvironment"/> does not
    /// give, and the settings both give (where the command line or environment wins).
    /// </summary>
    public static (ConfigInput Input, IReadOnlyList<ConfigOverride> Overrides) Combine(ConfigInput commandLineAndEnvironment, ConfigInput file)
    {
        ArgumentNullException.ThrowIfNull(commandLineAndEnvironment);
        ArgumentNullException.ThrowIfNull(file);
        var input = commandLineAndEnvironment;
        var overrides = new List<ConfigOverride>();
        foreach (var setting in Settings.All)
        {
            var fromFile = file[setting];
            if (fromFile.Count == 0)
            {
                continue;
            }

            var given = commandLineAndEnvironment[setting];
            if (given.Count == 0)
            {
                input = input.With(setting, fromFile);
            }
            else
            {
                overrides.Add(new ConfigOverride(setting, given, fromFile));
            }
        }

        // Request rules come from the file alone: no flag gives them (the keep-alive and
        // context-size flags are rows of their own).
        if (file.RequestRules.Count > 0)
        {
            input = input with { RequestRules = [.. commandLineAndEnvironment.RequestRules, .. file.RequestRules] };
        }

        return (input with { FileContent = file.FileContent }, overrides);
    }

    // The file's problems by line (the rows read in table order, not in the file's), then the
    // others (a flag's, a variable's, a setting missing) in the order found.
    private static List<ConfigError> InFileOrder(List<ConfigError> errors, string fileName) =>
        [.. errors.Select(static (error, index) => (error, index))
            .OrderBy(item => LineIn(item.error.Source, fileName) ?? int.MaxValue)
            .ThenBy(static item => item.index)
            .Select(static item => item.error)];

    private static int? LineIn(string source, string fileName)
    {
        if (!source.StartsWith(fileName + ":", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = source.AsSpan(fileName.Length + 1);
        var digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
        {
            digits++;
        }

        return int.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var line) ? line : null;
    }
}
