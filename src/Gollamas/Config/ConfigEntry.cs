namespace Gollamas.Config;

/// <summary>
/// One raw configuration value and where it came from: the flag (<c>--proxies</c>) or the
/// environment variable (<c>GOLLAMAS_PROXIES</c>, <c>PROXIES</c>), so an error can name it.
/// </summary>
internal readonly record struct ConfigEntry(string Value, string Source);
