namespace Gollamas.Config;

/// <summary>
/// Everything the command line and environment supplied, still unvalidated. List entries are
/// already split: one <see cref="ConfigEntry"/> per <c>a=b</c> item, in declaration order.
/// </summary>
internal sealed record ConfigInput(
    ConfigEntry Listen,
    ConfigEntry Level,
    IReadOnlyList<ConfigEntry> Proxies,
    IReadOnlyList<ConfigEntry> Connections,
    IReadOnlyList<ConfigEntry> Aliases,
    ConfigEntry ListAliases)
{
    /// <summary>Extra CORS origins, one entry per origin.</summary>
    public IReadOnlyList<ConfigEntry> Origins { get; init; } = [];
}
