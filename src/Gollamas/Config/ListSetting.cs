namespace Gollamas.Config;

/// <summary>
/// A setting with a list of values (<see cref="SettingKind.List"/>, <see cref="SettingKind.Repeatable"/>
/// or <see cref="SettingKind.Secrets"/>), one entry per item, parsed into a <typeparamref name="T"/>
/// and put in its place in <see cref="GollamasOptions"/>. No list has a default: none is empty.
/// </summary>
internal sealed class ListSetting<T> : Setting
{
    /// <summary>Parses every item given (none: an empty list). A problem goes to the errors.</summary>
    public required Func<IReadOnlyList<ConfigEntry>, List<ConfigError>, T> Parse { get; init; }

    /// <summary>Puts the parsed value in its place in the options.</summary>
    public required Func<GollamasOptions, T, GollamasOptions> Apply { get; init; }

    public override void ReadInto(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        draft.Options = Apply(draft.Options, Parse(draft.Input[this], draft.Errors));
        base.ReadInto(draft);
    }
}
