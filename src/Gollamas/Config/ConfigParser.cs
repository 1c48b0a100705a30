using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gollamas.Forwarding;
using Gollamas.Routing;
using Microsoft.Extensions.Logging;

namespace Gollamas.Config;

/// <summary>
/// Turns the raw <see cref="ConfigInput"/> into validated <see cref="GollamasOptions"/>, or into
/// every <see cref="ConfigError"/> found, so the operator fixes a configuration in one pass.
/// </summary>
internal static class ConfigParser
{
    private const string ProxyForm = "(expected MODEL=URL or MODEL=CONNECTION_ID)";
    private const string ConnectionForm = "(expected ID=URL)";
    private const string AliasForm = "(expected ALIAS=MODEL)";
    private const string ListenForm = "(expected HOST:PORT, :PORT or [IPV6]:PORT)";
    private const string MaxConcurrencyForm = "(expected N or ID_OR_URL=N)";
    private const string DurationForm = "(expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)";
    private const string AllowedHostForm = "(expected a name or address without port, e.g. ollama.example.com, or * for any)";
    private const string UrlSeparator = "://";

    // The runtime's timers (PeriodicTimer, CancelAfter, Task.Delay) throw for periods under 1 ms
    // or over 2^32-2 ms (about 49 days), so a duration outside these bounds would pass here and
    // fail only when a probe or a queued request first uses it.
    private static readonly TimeSpan MinimumDuration = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaximumDuration = TimeSpan.FromHours(1000);
    private const string DurationRange = "out of range (expected 1ms to 1000h)";
    private const string DurationOrZeroRange = "out of range (expected 0 for none, or 1ms to 1000h)";

    // The body is buffered whole in one pooled array before it is forwarded, and both an array's
    // length and Kestrel's request body limit stop at int.MaxValue; under 1 KiB not even a short
    // chat request fits.
    private const long MinimumBodySize = 1024;
    private const long MaximumBodySize = int.MaxValue;
    private const string SizeForm = "(expected e.g. 64MiB, 500MB, or a number of bytes)";
    private const string BodySizeRange = "out of range (expected 1KiB to 2147483647 bytes)";

    // Named together when absent: the missing half may be given either way.
    private const string TlsCertificateSources = "--tls-cert/GOLLAMAS_TLS_CERT";
    private const string TlsKeySources = "--tls-key/GOLLAMAS_TLS_KEY";
    private const string BodyTempDirSource = "--body-temp-dir/GOLLAMAS_BODY_TEMP_DIR";

    public static bool TryParse(ConfigInput input, out GollamasOptions? options, out IReadOnlyList<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(input);
        var found = new List<ConfigError>();

        var listen = ParseListen(input.Listen, found);
        var level = ParseLevel(input.Level, found);
        var connections = new ConnectionTable();
        ParseConnections(input.Connections, connections, found);
        var models = ParseProxies(input.Proxies, connections, found);
        var aliases = ParseAliases(input.Aliases, models, found);
        var listAliases = ParseBoolean(input.ListAliases, found);
        var origins = ParseOrigins(input.Origins, found);
        var health = ParseHealth(input, found);
        var concurrency = ParseConcurrency(input, connections, found);
        var allowRunning = input.AllowRunning is { } allow && ParseBoolean(allow, found);
        var limits = ParseLimits(input, found);
        var security = ParseSecurity(input, found);
        var logging = ParseLogging(input, found);
        var metrics = new MetricsOptions
        {
            Enabled = input.Metrics is { } metricsEntry ? ParseBoolean(metricsEntry, found) : true,
            Listen = input.MetricsListen is { } metricsListen ? ParseListen(metricsListen, found) : null,
        };
        var pingInterval = ParseDuration(input.PingInterval, TimeSpan.Zero, found, zeroMeansNone: true);
        var lifecycle = LifecycleParser.Parse(input, [.. models.Select(static m => m.Name)], aliases, pingInterval, input.PingInterval, found);

        errors = found;
        if (found.Count > 0)
        {
            options = null;
            return false;
        }

        options = new GollamasOptions
        {
            Listen = listen!,
            MinimumLevel = level,
            Connections = connections.All,
            Models = [.. models.Select(m => new ModelConfig(m.Name, m.ConnectionIds))],
            Aliases = aliases,
            ListAliases = listAliases,
            Origins = origins,
            Health = health,
            Concurrency = concurrency,
            AllowRunning = allowRunning,
            Limits = limits,
            Security = security,
            Logging = logging,
            Metrics = metrics,
            Lifecycle = lifecycle,
        };
        return true;
    }

    private static ListenAddress? ParseListen(ConfigEntry entry, List<ConfigError> errors)
    {
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

    private static LogLevel ParseLevel(ConfigEntry entry, List<ConfigError> errors)
    {
        // The words of logrus, which gollamas used, mapped onto Microsoft.Extensions.Logging.
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

    private static string[] ParseOrigins(IReadOnlyList<ConfigEntry> entries, List<ConfigError> errors)
    {
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

    private static HealthOptions ParseHealth(ConfigInput input, List<ConfigError> errors)
    {
        var defaults = new HealthOptions();
        return new HealthOptions
        {
            Interval = ParseDuration(input.HealthInterval, defaults.Interval, errors),
            Timeout = ParseDuration(input.HealthTimeout, defaults.Timeout, errors),
            FailuresBeforeDown = ParseWholeNumber(
                input.HealthFailures, minimum: 1, defaults.FailuresBeforeDown, "invalid failure count (expected a whole number of at least 1)", errors),
        };
    }

    private static ConcurrencyOptions ParseConcurrency(ConfigInput input, ConnectionTable connections, List<ConfigError> errors)
    {
        var defaults = new ConcurrencyOptions();
        int? defaultLimit = null;
        var perConnection = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in input.MaxConcurrency)
        {
            var text = entry.Value.AsSpan().Trim();
            if (text.IsEmpty)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty entry {MaxConcurrencyForm}"));
                continue;
            }

            // The limit never contains '=', so the last one separates it from the connection
            // whatever the id or URL holds.
            var equals = text.LastIndexOf('=');
            if (equals < 0)
            {
                if (!TryParseWholeNumber(text, minimum: 0, out var limit))
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, "invalid limit (expected a whole number, 0 for unlimited)"));
                }
                else if (defaultLimit is { } previous)
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, $"default limit already set to {previous} (give ID_OR_URL=N for one connection)"));
                }
                else
                {
                    defaultLimit = limit;
                }

                continue;
            }

            var target = text[..equals].Trim().ToString();
            var limitText = text[(equals + 1)..].Trim();
            if (target.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty connection id or URL {MaxConcurrencyForm}"));
                continue;
            }

            if (limitText.IsEmpty)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty limit {MaxConcurrencyForm}"));
                continue;
            }

            if (!TryResolveConnection(entry, target, connections, errors, out var id))
            {
                continue;
            }

            if (!TryParseWholeNumber(limitText, minimum: 1, out var connectionLimit))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid limit '{limitText}' (expected a whole number of at least 1)"));
                continue;
            }

            if (!perConnection.TryAdd(id, connectionLimit))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"limit of connection '{id}' already set to {perConnection[id]}"));
            }
        }

        return new ConcurrencyOptions
        {
            DefaultLimit = defaultLimit ?? defaults.DefaultLimit,
            PerConnection = perConnection,
            QueueLength = ParseWholeNumber(input.QueueLength, minimum: 0, defaults.QueueLength, "invalid queue length (expected a whole number, 0 for no queue)", errors),
            QueueTimeout = ParseDuration(input.QueueTimeout, defaults.QueueTimeout, errors),
        };
    }

    // A connection named by id, or by URL compared as the proxies compare them (scheme and host
    // case, default port, trailing slash); a URL two explicit connections share names neither.
    private static bool TryResolveConnection(ConfigEntry entry, string target, ConnectionTable connections, List<ConfigError> errors, out string id)
    {
        id = "";
        if (!target.Contains(UrlSeparator, StringComparison.Ordinal))
        {
            if (connections.ContainsId(target))
            {
                id = target;
                return true;
            }

            // A connection whose own declaration failed was already reported.
            if (!connections.HasFailed(target))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"unknown connection id '{target}'"));
            }

            return false;
        }

        if (!TryParseBaseUri(target, out var baseUri, out _, out var problem))
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, problem ?? $"'{target}' is not an http(s) URL {MaxConcurrencyForm}"));
            return false;
        }

        var ids = connections.IdsWithUri(baseUri);
        switch (ids.Count)
        {
            case 0:
                errors.Add(new ConfigError(entry.Source, entry.Value, $"no connection has URL '{target}'"));
                return false;
            case 1:
                id = ids[0];
                return true;
            default:
                errors.Add(new ConfigError(
                    entry.Source, entry.Value, $"URL '{target}' is shared by connections {string.Join(", ", ids.Select(i => $"'{i}'"))} (give the connection id instead)"));
                return false;
        }
    }

    private static LimitOptions ParseLimits(ConfigInput input, List<ConfigError> errors)
    {
        var defaults = new LimitOptions();
        var limits = new LimitOptions
        {
            MaxRequestBodyBytes = ParseBodySize(input.MaxBodySize, defaults.MaxRequestBodyBytes, errors),
            BodyTempDirectory = ParseBodyTempDirectory(input.BodyTempDir, defaults.BodyTempDirectory, errors),
            RequestHeadersTimeout = ParseDuration(input.HeaderTimeout, defaults.RequestHeadersTimeout, errors),
            ConnectTimeout = ParseDuration(input.ConnectTimeout, defaults.ConnectTimeout, errors),
            IdleTimeout = ParseDuration(input.IdleTimeout, defaults.IdleTimeout, errors, zeroMeansNone: true),
            MaxConnections = ParseWholeNumber(
                input.MaxConnections, minimum: 0, defaults.MaxConnections, "invalid connection limit (expected a whole number, 0 for no limit)", errors),
            DrainTimeout = ParseDuration(input.DrainTimeout, defaults.DrainTimeout, errors),
            TlsCertificatePath = ParseReadableFile(input.TlsCertificate, errors),
            TlsKeyPath = ParseReadableFile(input.TlsKey, errors),
        };

        // Either half alone would listen with plain HTTP while the operator believes in HTTPS.
        if (input.TlsCertificate is { } certificate && input.TlsKey is null)
        {
            errors.Add(new ConfigError(TlsKeySources, "", $"missing ({certificate.Source} is set; give both or neither)"));
        }
        else if (input.TlsKey is { } key && input.TlsCertificate is null)
        {
            errors.Add(new ConfigError(TlsCertificateSources, "", $"missing ({key.Source} is set; give both or neither)"));
        }

        return limits;
    }

    private static SecurityOptions ParseSecurity(ConfigInput input, List<ConfigError> errors)
    {
        var defaults = new SecurityOptions();
        return new SecurityOptions
        {
            ApiKeys = ParseApiKeys(input.ApiKeys, errors),
            ApiKeysFile = ParseReadableFile(input.ApiKeysFile, errors),
            ForwardAuthorization = input.ForwardAuthorization is { } forward ? ParseBoolean(forward, errors) : defaults.ForwardAuthorization,
            AllowedHosts = ParseAllowedHosts(input.AllowedHosts, errors),
        };
    }

    // A name as a browser puts it in Host (a DNS name or an IP address), without the port: the
    // check compares the Host's name part only, whatever port the client reached.
    private static string[] ParseAllowedHosts(IReadOnlyList<ConfigEntry> entries, List<ConfigError> errors)
    {
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

    // A key is a secret: an error names it by its position in the list, never by its value, so
    // that stderr (often collected by a log shipper) does not leak it.
    private static string[] ParseApiKeys(IReadOnlyList<ConfigEntry> entries, List<ConfigError> errors)
    {
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

    private static LogOptions ParseLogging(ConfigInput input, List<ConfigError> errors)
    {
        var defaults = new LogOptions();
        var accessLog = input.AccessLog is { } given ? ParseBoolean(given, errors) : defaults.AccessLog;
        var format = defaults.Format;
        if (input.LogFormat is { } formatEntry)
        {
            var word = formatEntry.Value.Trim().ToLowerInvariant();
            if (word is "simple" or "json")
            {
                format = word;
            }
            else
            {
                errors.Add(new ConfigError(formatEntry.Source, formatEntry.Value, "unknown format (expected simple or json)"));
            }
        }

        return new LogOptions
        {
            AccessLog = accessLog,
            Format = format,
        };
    }

    private static long ParseBodySize(ConfigEntry? entry, long fallback, List<ConfigError> errors)
    {
        if (entry is not { } given)
        {
            return fallback;
        }

        if (!SizeParser.TryParse(given.Value.Trim(), out var value))
        {
            errors.Add(new ConfigError(given.Source, given.Value, $"invalid size {SizeForm}"));
            return fallback;
        }

        if (value < MinimumBodySize || value > MaximumBodySize)
        {
            errors.Add(new ConfigError(given.Source, given.Value, BodySizeRange));
            return fallback;
        }

        return value;
    }

    // Checked at start so that a typo fails here, in one line, rather than when the server first
    // loads the certificate or re-reads the key file on SIGHUP. The path is kept as given.
    // Checked at start-up, by creating a file there: a directory the proxy cannot write would
    // otherwise fail the first large body, long after the operator looked.
    private static string ParseBodyTempDirectory(ConfigEntry? entry, string fallback, List<ConfigError> errors)
    {
        var path = entry is { } given ? given.Value.Trim() : fallback;
        var problem = path.Length == 0 ? "empty path (expected a directory)" : BodyStore.Check(path);
        if (problem is not null)
        {
            errors.Add(new ConfigError(entry?.Source ?? $"{BodyTempDirSource} (default: the system's temporary directory)", entry?.Value ?? path, problem));
        }

        return path;
    }

    private static string? ParseReadableFile(ConfigEntry? entry, List<ConfigError> errors)
    {
        if (entry is not { } given)
        {
            return null;
        }

        var path = given.Value.Trim();
        string? problem = null;
        if (path.Length == 0)
        {
            problem = "empty path (expected a file)";
        }
        else if (Directory.Exists(path))
        {
            problem = "is a directory (expected a file)";
        }
        else if (!File.Exists(path))
        {
            problem = "no such file";
        }
        else
        {
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (UnauthorizedAccessException)
            {
                problem = "file not readable (permission denied)";
            }
            catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
            {
                problem = "no such file"; // removed between the check and the open
            }
            catch (IOException)
            {
                // The runtime's message is a resource key in the published build.
                problem = "file not readable (an I/O error)";
            }
        }

        if (problem is not null)
        {
            errors.Add(new ConfigError(given.Source, given.Value, problem));
            return null;
        }

        return path;
    }

    private static TimeSpan ParseDuration(ConfigEntry? entry, TimeSpan fallback, List<ConfigError> errors, bool zeroMeansNone = false)
    {
        if (entry is not { } given)
        {
            return fallback;
        }

        if (!DurationParser.TryParse(given.Value.Trim(), out var value))
        {
            errors.Add(new ConfigError(given.Source, given.Value, $"invalid duration {DurationForm}"));
            return fallback;
        }

        // Only a zero as written means none: 50ns also truncates to zero ticks, but is a mistake.
        if (zeroMeansNone && value == TimeSpan.Zero && !given.Value.Any(c => c is >= '1' and <= '9'))
        {
            return value;
        }

        if (value < MinimumDuration || value > MaximumDuration)
        {
            errors.Add(new ConfigError(given.Source, given.Value, zeroMeansNone ? DurationOrZeroRange : DurationRange));
            return fallback;
        }

        return value;
    }

    private static int ParseWholeNumber(ConfigEntry? entry, int minimum, int fallback, string reason, List<ConfigError> errors)
    {
        if (entry is not { } given)
        {
            return fallback;
        }

        if (!TryParseWholeNumber(given.Value.AsSpan().Trim(), minimum, out var value))
        {
            errors.Add(new ConfigError(given.Source, given.Value, reason));
            return fallback;
        }

        return value;
    }

    // Digits only: no sign, no group separators, nothing past int.MaxValue.
    private static bool TryParseWholeNumber(ReadOnlySpan<char> text, int minimum, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= minimum;

    private static bool ParseBoolean(ConfigEntry entry, List<ConfigError> errors)
    {
        switch (entry.Value.Trim().ToUpperInvariant())
        {
            case "" or "FALSE" or "0" or "NO" or "OFF":
                return false;
            case "TRUE" or "1" or "YES" or "ON":
                return true;
            default:
                errors.Add(new ConfigError(entry.Source, entry.Value, "not a boolean (expected true/false, 1/0, yes/no or on/off)"));
                return false;
        }
    }

    private static void ParseConnections(IReadOnlyList<ConfigEntry> entries, ConnectionTable connections, List<ConfigError> errors)
    {
        foreach (var entry in entries)
        {
            if (!TrySplit(entry, ConnectionForm, "connection id", "URL", errors, out var id, out var url))
            {
                continue;
            }

            // Implicit connections are named by their URL, so an explicit id that looks like one
            // could collide with them; a proxy destination containing "://" is never read as an id anyway.
            if (id.Contains(UrlSeparator, StringComparison.Ordinal))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"connection id '{id}' must not contain '://' {ConnectionForm}"));
                connections.MarkFailed(id);
                continue;
            }

            if (connections.ContainsId(id))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"duplicate connection id '{id}'"));
                continue;
            }

            if (!TryParseBaseUri(url, out var baseUri, out var credentials, out var problem))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, problem ?? $"'{url}' is not an http(s) URL {ConnectionForm}"));
                connections.MarkFailed(id);
                continue;
            }

            // Kept even when no model uses it: an unused connection is harmless, and rejecting it
            // would make a shared CONNECTIONS variable unusable with a smaller --proxy set.
            connections.AddExplicit(id, baseUri, credentials);
        }
    }

    private static List<ModelEntry> ParseProxies(IReadOnlyList<ConfigEntry> entries, ConnectionTable connections, List<ConfigError> errors)
    {
        var models = new List<ModelEntry>();
        var byCanonical = new Dictionary<string, ModelEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            if (!TrySplit(entry, ProxyForm, "model name", "destination", errors, out var model, out var destination))
            {
                continue;
            }

            var nameValid = ModelName.TryParse(model, out var name);
            if (!nameValid)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid model name '{model}'"));
            }

            string? connectionId;
            if (destination.Contains(UrlSeparator, StringComparison.Ordinal))
            {
                if (!TryParseBaseUri(destination, out var baseUri, out var credentials, out var problem))
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, problem ?? $"'{destination}' is not an http(s) URL {ProxyForm}"));
                    continue;
                }

                connectionId = connections.GetOrAddImplicit(baseUri, credentials);
                if (connectionId is null)
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, "this URL is already declared with other credentials (give them the same everywhere, or name the connection with --connection)"));
                    continue;
                }
            }
            else
            {
                connectionId = connections.ContainsId(destination) ? destination : null;
                if (connectionId is null)
                {
                    // A connection whose own declaration failed was already reported.
                    if (!connections.HasFailed(destination))
                    {
                        errors.Add(new ConfigError(entry.Source, entry.Value, $"unknown connection id '{destination}'"));
                    }

                    continue;
                }
            }

            if (!nameValid)
            {
                continue;
            }

            if (!byCanonical.TryGetValue(name.Canonical, out var existing))
            {
                existing = new ModelEntry(model, name.Canonical);
                byCanonical.Add(name.Canonical, existing);
                models.Add(existing);
            }

            // Several routes for one model are valid (the first is preferred); repeating the
            // same route is not an error, it just adds nothing.
            if (!existing.ConnectionIds.Contains(connectionId))
            {
                existing.ConnectionIds.Add(connectionId);
            }
        }

        // Reported only when nothing was declared: if entries exist but all failed, their own
        // errors already say why, and a second "no model" line would be noise.
        if (entries.Count == 0)
        {
            errors.Add(new ConfigError("--proxy/--proxies", "", $"no model configured {ProxyForm}"));
        }

        return models;
    }

    private static List<AliasConfig> ParseAliases(IReadOnlyList<ConfigEntry> entries, List<ModelEntry> models, List<ConfigError> errors)
    {
        var modelsByCanonical = models.ToDictionary(m => m.Canonical, m => m.Name, StringComparer.OrdinalIgnoreCase);

        var aliases = new List<AliasConfig>();
        var targetByAlias = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            if (!TrySplit(entry, AliasForm, "alias", "model name", errors, out var alias, out var target))
            {
                continue;
            }

            if (!ModelName.TryParse(alias, out var aliasName))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid alias name '{alias}'"));
                continue;
            }

            if (modelsByCanonical.ContainsKey(aliasName.Canonical))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, "alias shadows a configured model"));
                continue;
            }

            if (!ModelName.TryParse(target, out var targetName))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid model name '{target}'"));
                continue;
            }

            if (!modelsByCanonical.TryGetValue(targetName.Canonical, out var configuredName))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"alias points to unknown model '{target}'"));
                continue;
            }

            if (targetByAlias.TryGetValue(aliasName.Canonical, out var previous))
            {
                if (!previous.Equals(configuredName, StringComparison.Ordinal))
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, $"alias '{alias}' already points to '{previous}'"));
                }

                continue;
            }

            targetByAlias.Add(aliasName.Canonical, configuredName);
            aliases.Add(new AliasConfig(alias, configuredName));
        }

        return aliases;
    }

    private static bool TrySplit(
        ConfigEntry entry,
        string form,
        string leftName,
        string rightName,
        List<ConfigError> errors,
        out string left,
        out string right)
    {
        left = right = "";
        var text = entry.Value.AsSpan().Trim();
        if (text.IsEmpty)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"empty entry {form}"));
            return false;
        }

        var equals = text.IndexOf('=');
        if (equals < 0)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"missing '=' {form}"));
            return false;
        }

        left = text[..equals].Trim().ToString();
        right = text[(equals + 1)..].Trim().ToString();
        if (left.Length == 0)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"empty {leftName} {form}"));
            return false;
        }

        if (right.Length == 0)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"empty {rightName} {form}"));
            return false;
        }

        return true;
    }

    // An upstream base: absolute http(s) with a host and no query or fragment. The path is kept
    // (an Ollama behind a path-prefixing reverse proxy) and ends in '/' so relative API paths
    // resolve beneath it rather than replacing its last segment. A user and password (a server
    // behind basic authentication) are taken out into their own value, so that the URI every
    // other part of the proxy sees, logs and reports has none. A problem with them is in
    // problem; any other failure leaves it null.
    private static bool TryParseBaseUri(string text, out Uri baseUri, out UrlCredentials? credentials, out string? problem)
    {
        baseUri = null!;
        if (!UrlCredentials.TrySplit(text, out var withoutCredentials, out credentials, out problem))
        {
            return false;
        }

        if (withoutCredentials.Contains('?', StringComparison.Ordinal) || withoutCredentials.Contains('#', StringComparison.Ordinal)
            || !Uri.TryCreate(withoutCredentials, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Host.Length == 0
            || uri.UserInfo.Length != 0)
        {
            return false;
        }

        if (!uri.AbsolutePath.EndsWith('/'))
        {
            uri = new UriBuilder(uri) { Path = uri.AbsolutePath + "/" }.Uri;
        }

        baseUri = uri;
        return true;
    }

    /// <summary>A model being assembled: its first spelling and its routes so far.</summary>
    private sealed class ModelEntry(string name, string canonical)
    {
        public string Name { get; } = name;

        public string Canonical { get; } = canonical;

        public List<string> ConnectionIds { get; } = [];
    }

    /// <summary>
    /// Connections in declaration order, with the two lookups proxies need: by id, and by URL
    /// so several models proxied to one URL share one connection (and one connection pool).
    /// </summary>
    private sealed class ConnectionTable
    {
        private readonly List<ConnectionConfig> _all = [];
        private readonly HashSet<string> _explicitIds = new(StringComparer.Ordinal);
        private readonly HashSet<string> _allIds = new(StringComparer.Ordinal);
        private readonly HashSet<string> _failedIds = new(StringComparer.Ordinal);

        // Uri equality ignores scheme and host case and a default port (and a user and password,
        // but base URIs have none); the first connection declared for a URL wins, so explicit
        // ones (parsed first) are preferred over implicit ones.
        private readonly Dictionary<Uri, ConnectionConfig> _byUri = [];

        public IReadOnlyList<ConnectionConfig> All => _all;

        /// <summary>Whether <paramref name="id"/> is the id of an explicit connection: only those can be named.</summary>
        public bool ContainsId(string id) => _explicitIds.Contains(id);

        /// <summary>Every connection on <paramref name="baseUri"/>: one, or several explicit ones.</summary>
        public List<string> IdsWithUri(Uri baseUri) => [.. _all.Where(c => c.BaseUri == baseUri).Select(c => c.Id)];

        public bool HasFailed(string id) => _failedIds.Contains(id);

        public void MarkFailed(string id) => _failedIds.Add(id);

        public void AddExplicit(string id, Uri baseUri, UrlCredentials? credentials)
        {
            var connection = new ConnectionConfig(id, baseUri, IsExplicit: true, credentials);
            _all.Add(connection);
            _explicitIds.Add(id);
            _allIds.Add(id);
            _byUri.TryAdd(baseUri, connection);
        }

        /// <summary>
        /// The id of the connection on <paramref name="baseUri"/>, added if there is none; null
        /// when that connection has other credentials than <paramref name="credentials"/> (an entry
        /// without credentials takes the connection as it was declared).
        /// </summary>
        public string? GetOrAddImplicit(Uri baseUri, UrlCredentials? credentials)
        {
            if (_byUri.TryGetValue(baseUri, out var existing))
            {
                return credentials is null || credentials == existing.Credentials ? existing.Id : null;
            }

            // host:port stays the same across restarts and reorderings, so a metric series or a
            // log search keeps working; it names no user or password. An explicit id may already
            // be that text: then the URL, which no explicit id can be (they cannot contain "://").
            var id = string.Concat(baseUri.Host, ":", baseUri.Port.ToString(CultureInfo.InvariantCulture), baseUri.AbsolutePath.TrimEnd('/'));
            if (_allIds.Contains(id))
            {
                id = baseUri.ToString();
            }

            var connection = new ConnectionConfig(id, baseUri, IsExplicit: false, credentials);
            _all.Add(connection);
            _allIds.Add(id);
            _byUri.Add(baseUri, connection);
            return id;
        }
    }
}
