namespace Gollamas.Config;

/// <summary>
/// The options as the rows of <see cref="Settings"/> fill them in, one row after the other, with
/// every problem found so far and what the combining steps share.
/// </summary>
internal sealed class OptionsDraft(ConfigInput input)
{
    public ConfigInput Input { get; } = input;

    public List<ConfigError> Errors { get; } = [];

    /// <summary>Where a value was read otherwise than written (an address without a scheme), one line each, for the start-up log.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>
    /// The options so far. The required members start empty: --listen has a default, so its row
    /// always sets the address, and the routes' step sets the rest.
    /// </summary>
    public GollamasOptions Options { get; set; } = new()
    {
        Listen = new ListenAddress("", 0),
        Connections = [],
        Models = [],
        Aliases = [],
    };

    /// <summary>The connections the routes' step declared, for the steps that name one (--max-concurrency).</summary>
    public ConnectionTable Connections { get; } = new();

    /// <summary>
    /// Reports <paramref name="missing"/> when <paramref name="given"/> is set without it: either
    /// half alone would silently do less than the operator believes (listen with plain HTTP).
    /// </summary>
    public void RequireBoth(Setting given, Setting missing)
    {
        ArgumentNullException.ThrowIfNull(given);
        ArgumentNullException.ThrowIfNull(missing);
        if (Input.Single(given) is { } entry && Input.Single(missing) is null)
        {
            Errors.Add(new ConfigError(missing.Sources, "", $"missing ({entry.Source} is set; give both or neither)"));
        }
    }
}
