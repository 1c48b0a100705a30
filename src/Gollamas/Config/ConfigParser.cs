namespace Gollamas.Config;

/// <summary>
/// Turns the raw <see cref="ConfigInput"/> into validated <see cref="GollamasOptions"/>, or into
/// every <see cref="ConfigError"/> found, so the operator fixes a configuration in one pass.
/// </summary>
/// <remarks>
/// Every row of <see cref="Settings"/> reads its own value, in table order (the order of
/// --help), so errors come in the order the flags are listed; rows read together run their
/// combining step at their place (the routes at --proxy), except the lifecycle settings, read
/// last, as they always were.
/// </remarks>
internal static class ConfigParser
{
    public static bool TryParse(ConfigInput input, out GollamasOptions? options, out IReadOnlyList<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(input);
        var draft = new OptionsDraft(input);
        foreach (var setting in Settings.All)
        {
            setting.ReadInto(draft);
        }

        LifecycleParser.Parse(draft);

        errors = draft.Errors;
        options = draft.Errors.Count == 0 ? draft.Options with { Notes = draft.Notes } : null;
        return options is not null;
    }
}
