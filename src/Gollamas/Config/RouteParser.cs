namespace Gollamas.Config;

/// <summary>
/// Reads the routes: --connection, --proxy and --alias (each with its comma-list form and
/// variable) into connections, models and aliases, and the per-connection limits of
/// --max-concurrency, which name those connections.
/// </summary>
internal static class RouteParser
{
    private const string ProxyForm = "(expected MODEL=URL or MODEL=CONNECTION_ID)";
    private const string ConnectionForm = "(expected ID=URL)";
    private const string AliasForm = "(expected ALIAS=MODEL)";
    private const string MaxConcurrencyForm = "(expected N or ID_OR_URL=N)";
    private const string UrlSeparator = "://";

    /// <summary>
    /// The combining step of the --proxy row: connections first (proxies name them), then
    /// proxies, then aliases (they name the models).
    /// </summary>
    public static void Parse(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var input = draft.Input;
        ParseConnections(input.Connections, draft.Connections, draft.Errors);
        var models = ParseProxies(input.Proxies, draft.Connections, draft.Errors);
        var aliases = ParseAliases(input.Aliases, models, draft.Errors);
        draft.Options = draft.Options with
        {
            Connections = draft.Connections.All,
            Models = [.. models.Select(static m => new ModelConfig(m.Name, m.ConnectionIds))],
            Aliases = aliases,
        };
    }

    /// <summary>
    /// The combining step of the --max-concurrency row: a default limit (<c>N</c>; 0, unlimited,
    /// when none is given) and limits per connection, named by id or URL (<c>ID_OR_URL=N</c>).
    /// </summary>
    public static void ParseConcurrencyLimits(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var connections = draft.Connections;
        var errors = draft.Errors;
        int? defaultLimit = null;
        var perConnection = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in draft.Input.MaxConcurrency)
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
                if (!ValueParsers.TryParseWholeNumber(text, minimum: 0, out var limit))
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

            if (!ValueParsers.TryParseWholeNumber(limitText, minimum: 1, out var connectionLimit))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid limit '{limitText}' (expected a whole number of at least 1)"));
                continue;
            }

            if (!perConnection.TryAdd(id, connectionLimit))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"limit of connection '{id}' already set to {perConnection[id]}"));
            }
        }

        draft.Options = draft.Options with
        {
            Concurrency = draft.Options.Concurrency with { DefaultLimit = defaultLimit ?? 0, PerConnection = perConnection },
        };
    }

    // A connection named by id, or by URL compared as the proxies compare them (scheme and host
    // case, default port, trailing slash); a URL two explicit connections share names neither.
    internal static bool TryResolveConnection(ConfigEntry entry, string target, ConnectionTable connections, List<ConfigError> errors, out string id)
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

    private static void ParseConnections(IReadOnlyList<ConfigEntry> entries, ConnectionTable connections, List<ConfigError> errors)
    {
        foreach (var entry in entries)
        {
            if (!ValueParsers.TrySplitPair(entry, ConnectionForm, "connection id", "URL", errors, out var id, out var url))
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
            if (!ValueParsers.TrySplitPair(entry, ProxyForm, "model name", "destination", errors, out var model, out var destination))
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
            errors.Add(new ConfigError($"{Settings.Proxies.Flag}/{Settings.Proxies.ListFlag}", "", $"no model configured {ProxyForm}"));
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
            if (!ValueParsers.TrySplitPair(entry, AliasForm, "alias", "model name", errors, out var alias, out var target))
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
}
