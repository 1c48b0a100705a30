namespace Gollamas.Config;

/// <summary>What a reload of the configuration changes that a running proxy cannot take.</summary>
internal static class ConfigComparison
{
    /// <summary>
    /// The settings not <see cref="Setting.Live"/> whose values in <paramref name="next"/> differ
    /// from those in <paramref name="running"/>, in table order. Values are compared as given
    /// (where they came from does not matter: a line moved in the file is no change), a setting
    /// not given counting as its default.
    /// </summary>
    public static IReadOnlyList<Setting> NeedRestart(ConfigInput running, ConfigInput next)
    {
        ArgumentNullException.ThrowIfNull(running);
        ArgumentNullException.ThrowIfNull(next);
        var changed = new List<Setting>();
        foreach (var setting in Settings.All)
        {
            if (!setting.Live && !SameValues(setting, running, next))
            {
                changed.Add(setting);
            }
        }

        return changed;
    }

    private static bool SameValues(Setting setting, ConfigInput running, ConfigInput next)
    {
        var before = running[setting];
        var after = next[setting];
        if (before.Count == 0 || after.Count == 0)
        {
            return Single(before, setting) is { } one && Single(after, setting) is { } other && string.Equals(one, other, StringComparison.Ordinal);
        }

        if (before.Count != after.Count)
        {
            return false;
        }

        for (var i = 0; i < before.Count; i++)
        {
            if (!string.Equals(before[i].Value, after[i].Value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    // The one value of an input with at most one entry: the entry's, or the row's default.
    private static string? Single(IReadOnlyList<ConfigEntry> entries, Setting setting) =>
        entries.Count switch
        {
            0 => setting.Default ?? string.Empty,
            1 => entries[0].Value,
            _ => null,
        };
}
