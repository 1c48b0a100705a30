namespace Gollamas.Config;

/// <summary>One reading of every source of the configuration: what they gave, and the options or every problem.</summary>
/// <param name="Input">What the sources gave; null when a source could not be read at all.</param>
/// <param name="Options">The validated options; null when there are <paramref name="Errors"/>.</param>
/// <param name="Errors">Every problem found, in the order they are reported.</param>
internal sealed record ConfigReading(ConfigInput? Input, GollamasOptions? Options, IReadOnlyList<ConfigError> Errors)
{
    /// <summary>Reads <paramref name="input"/> with <see cref="ConfigParser"/>.</summary>
    public static ConfigReading Of(ConfigInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return ConfigParser.TryParse(input, out var options, out var errors)
            ? new ConfigReading(input, options, [])
            : new ConfigReading(input, null, errors);
    }
}

/// <summary>
/// Where the configuration of a running proxy comes from, so that it can be read again: a file
/// (watched, and re-read on SIGHUP) under the same command line and environment.
/// </summary>
/// <param name="FilePath">The configuration file; null when there is none (then nothing is reloaded).</param>
/// <param name="Read">Reads every source again; it must not throw (a problem is a <see cref="ConfigError"/>).</param>
/// <param name="Initial">The reading the process started with.</param>
internal sealed record ConfigSource(string? FilePath, Func<ConfigReading> Read, ConfigReading Initial);
