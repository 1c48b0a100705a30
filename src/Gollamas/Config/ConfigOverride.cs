namespace Gollamas.Config;

/// <summary>
/// A setting the configuration file gives that a flag or variable gives too: the flag's or
/// variable's entries are used, the file's are not, and the start-up log says so.
/// </summary>
internal sealed record ConfigOverride(Setting Setting, IReadOnlyList<ConfigEntry> Used, IReadOnlyList<ConfigEntry> Replaced)
{
    private const string Hidden = "(hidden)";

    /// <summary>
    /// <c>health_interval: --health-interval 2s is used, not gollamas.yaml:4's 5s</c>; a URL's
    /// user and password print as <c>***</c>, an API key not at all.
    /// </summary>
    public override string ToString()
    {
        var used = new List<string>();
        foreach (var group in Used.GroupBy(static e => e.Source))
        {
            used.Add($"{group.Key} {(IsSecret ? Hidden : string.Join(", ", group.Select(static e => UrlCredentials.Redact(e.Value))))}");
        }

        var replaced = Replaced.Select(e => $"{Location(e.Source)}'s {(IsSecret ? Hidden : UrlCredentials.Redact(e.Value))}");
        return $"{Setting.FileKey}: {string.Join(" and ", used)} is used, not {string.Join(", ", replaced)}";
    }

    private bool IsSecret => Setting.Kind == SettingKind.Secrets;

    // "gollamas.yaml:4: health_interval" is at "gollamas.yaml:4": a key never holds ": ".
    private static string Location(string source)
    {
        var end = source.LastIndexOf(": ", StringComparison.Ordinal);
        return end < 0 ? source : source[..end];
    }
}
