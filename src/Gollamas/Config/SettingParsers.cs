using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gollamas.Bodies;
using Microsoft.Extensions.Logging;

namespace Gollamas.Config;

/// <summary>
/// Parsers of the values only one setting (or one pair, --listen and --metrics-listen) takes,
/// called from its row in <see cref="Settings"/>; the shared forms are in <see cref="ValueParsers"/>.
/// </summary>
internal static class SettingParsers
{
    private const string ListenForm = "(expected HOST:PORT, :PORT or [IPV6]:PORT)";
    private const string AllowedHostForm = "(expected a name or address without port, e.g. ollama.example.com, or * for any)";

    /// <summary>HOST:PORT, :PORT (every interface) or [IPV6]:PORT, with an optional <c>http://</c>; absent is null.</summary>
    public static ListenAddress? Listen(ConfigEntry? given, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (given is not { } entry)
        {
            return null;
        }

        var text = entry.Value.AsSpan().Trim();
        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            text = text["http://".Length..];
        }

        string host;
        ReadOnlySpan<char> port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0
                || !IPAddress.TryParse(text[1..close], out var address)
                || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid address {ListenForm}"));
                return null;
            }

            host = text[1..close].ToString();
            port = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"missing port {ListenForm}"));
                return null;
            }

            host = text[..colon].ToString();
            port = text[(colon + 1)..];

            // Uri.CheckHostName accepts DNS names and IPv4 and rejects whitespace, '/', '@' and
            // a bare IPv6 address, whose own ':' would make the port ambiguous.
            if (host.Length > 0 && Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid host '{host}' {ListenForm}"));
                return null;
            }
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > IPEndPoint.MaxPort)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid port '{port}' (expected 0-65535)"));
            return null;
        }

        return new ListenAddress(host, number);
    }

    /// <summary>The words of logrus, which gollamas used, mapped onto Microsoft.Extensions.Logging.</summary>
    public static LogLevel Level(ConfigEntry? given, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (given is not { } entry)
        {
            return LogLevel.Information;
        }

        switch (entry.Value.Trim().ToUpperInvariant())
        {
            case "PANIC" or "FATAL":
                return LogLevel.Critical;
            case "ERROR":
                return LogLevel.Error;
            case "WARN" or "WARNING":
                return LogLevel.Warning;
            case "INFO":
                return LogLevel.Information;
            case "DEBUG":
                return LogLevel.Debug;
            case "TRACE":
                return LogLevel.Trace;
            default:
                errors.Add(new ConfigError(entry.Source, entry.Value, "unknown level (expected panic, fatal, error, warn, info, debug or trace)"));
                return LogLevel.Information;
        }
    }

    /// <summary>"simple" or "json", in any case.</summary>
    public static string LogFormat(ConfigEntry? given, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (given is not { } entry)
        {
            return "simple";
        }

        var word = entry.Value.Trim().ToLowerInvariant();
        if (word is "simple" or "json")
        {
            return word;
        }

        errors.Add(new ConfigError(entry.Source, entry.Value, "unknown format (expected simple or json)"));
        return "simple";
    }

    /// <summary>Browser origins as OLLAMA_ORIGINS gives them.</summary>
    public static string[] Origins(IReadOnlyList<ConfigEntry> entries, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(errors);
        var origins = new List<string>(entries.Count);
        foreach (var entry in entries)
        {
            // Ollama strips white space and surrounding quotes from OLLAMA_ORIGINS.
            var origin = entry.Value.Trim().Trim('"', '\'').Trim();
            if (origin.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, "empty origin (expected e.g. https://app.example.com or chrome-extension://*)"));
            }
            else if (origin.Any(char.IsWhiteSpace))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, "an origin cannot contain white space"));
            }
            else
            {
                origins.Add(origin);
            }
        }

        return [.. origins];
    }

    /// <summary>
    /// Names as a browser puts them in Host (a DNS name or an IP address), without the port: the
    /// check compares the Host's name part only, whatever port the client reached.
    /// </summary>
    public static string[] AllowedHosts(IReadOnlyList<ConfigEntry> entries, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(errors);
        var hosts = new List<string>(entries.Count);
        foreach (var entry in entries)
        {
            var host = entry.Value.Trim();
            if (host == "*")
            {
                hosts.Add(host);
            }
            else if (host.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty host name {AllowedHostForm}"));
            }
            else if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"not a host name {AllowedHostForm}"));
            }
            else
            {
                hosts.Add(host.ToLowerInvariant());
            }
        }

        return [.. hosts];
    }

    /// <summary>
    /// API keys. A key is a secret: an error names it by its position in the list, never by its
    /// value, so that stderr (often collected by a log shipper) does not leak it.
    /// </summary>
    public static string[] ApiKeys(IReadOnlyList<ConfigEntry> entries, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(errors);
        var keys = new List<string>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var source = $"{entries[i].Source} #{(i + 1).ToString(CultureInfo.InvariantCulture)}";
            var key = entries[i].Value.Trim();
            if (key.Length == 0)
            {
                errors.Add(new ConfigError(source, "", "empty key"));
            }
            else if (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                // Such a key could never arrive intact in an Authorization header.
                errors.Add(new ConfigError(source, "", "a key cannot contain white space or control characters"));
            }
            else
            {
                keys.Add(key);
            }
        }

        return [.. keys];
    }

    /// <summary>
    /// The directory of large bodies' temporary files, the system's when absent. Checked at
    /// start-up, by creating a file there: a directory the proxy cannot write would otherwise
    /// fail the first large body, long after the operator looked.
    /// </summary>
    public static string BodyTempDirectory(ConfigEntry? entry, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var path = entry is { } given ? given.Value.Trim() : Path.GetTempPath();
        var problem = path.Length == 0 ? "empty path (expected a directory)" : BodyStore.Check(path);
        if (problem is not null)
        {
            errors.Add(new ConfigError(entry?.Source ?? $"{Settings.BodyTempDir.Sources} (default: the system's temporary directory)", entry?.Value ?? path, problem));
        }

        return path;
    }
}
