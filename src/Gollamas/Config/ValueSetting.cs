namespace Gollamas.Config;

/// <summary>
/// A setting with one value (<see cref="SettingKind.Scalar"/> or <see cref="SettingKind.Switch"/>):
/// the flag, else a variable, else <see cref="Setting.Default"/>, parsed into a
/// <typeparamref name="T"/> and put in its place in <see cref="GollamasOptions"/>.
/// </summary>
internal sealed class ValueSetting<T> : Setting
{
    /// <summary>
    /// Parses the value given, or the default (as if given with the flag), or null when there is
    /// neither. A problem goes to the errors, and the value returned is then of no use.
    /// </summary>
    public required Func<ConfigEntry?, List<ConfigError>, T> Parse { get; init; }

    /// <summary>Puts the parsed value in its place in the options.</summary>
    public required Func<GollamasOptions, T, GollamasOptions> Apply { get; init; }

    /// <summary>The default, parsed: what the options records start from, so the default lives in this row only.</summary>
    public T DefaultValue
    {
        get
        {
            var errors = new List<ConfigError>();
            var value = Parse(DefaultEntry, errors);
            return errors.Count == 0 ? value : throw new InvalidOperationException($"the default of {Flag} is not valid: {errors[0]}");
        }
    }

    private ConfigEntry? DefaultEntry => Default is null ? null : new ConfigEntry(Default, Flag);

    /// <summary>The value <paramref name="input"/> gives, or the default, parsed.</summary>
    public T Read(ConfigInput input, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Parse(input.Single(this) ?? DefaultEntry, errors);
    }

    public override void ReadInto(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        draft.Options = Apply(draft.Options, Read(draft.Input, draft.Errors));
        base.ReadInto(draft);
    }

    public override IReadOnlyList<ConfigError> CheckDefault()
    {
        var errors = new List<ConfigError>();
        if (DefaultEntry is { } entry)
        {
            Parse(entry, errors);
        }

        return errors;
    }
}
