namespace Gollamas.Config;

/// <summary>
/// Reads the routes: --connection, --proxy and --alias (each with its comma-list form and
/// variable) into connections, models and aliases, and the per-connection limits of
/// --max-concurrency, which name those connections. A server is given by URL or, as
/// OLLAMA_HOST is written, by <c>host:port</c> (<see cref="ServerUrl"/>); a value that is a
/// connection's id is that connection.
/// </summary>
internal static class RouteParser
{
    private const string ProxyForm = "(expected MODEL=URL or MODEL=CONNECTION_ID)";
    private const string ConnectionForm = "(expected ID=URL)";
    private const string AliasForm = "(expected ALIAS=MODEL)";
    private const string MaxConcurrencyForm = "(expected N or ID_OR_URL=N)";
    private const string DiscoverForm = "(expected ID_OR_URL, ID_OR_URL=PATTERN or ID_OR_URL=!PATTERN)";

    /// <summary>
    /// The combining step of the --proxy row: connections first (proxies name them), then
    /// proxies, then aliases (they name the models).
    /// </summary>
    public static void Parse(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var input = draft.Input;
        ParseConnections(input.Connections, draft.Connections, draft.Errors, draft.Notes);
        var models = ParseProxies(input.Proxies, draft.Connections, draft.Errors, draft.Notes);
        var discovery = ParseDiscovery(input[Settings.Discover], draft.Connections, draft.Errors, draft.Notes);
        if (input.Proxies.Count == 0 && input[Settings.Discover].Count == 0)
        {
            // Reported only when nothing was declared: if entries exist but all failed, their own
            // errors already say why, and a second "no model" line would be noise. With a file,
            // the file is where the operator looks for the models.
            draft.Errors.Add(input.Single(Settings.Config) is { } file
                ? new ConfigError($"{file.Value.Trim()}: {Settings.Proxies.FileKey}", "", "no model configured (models: {llama3.2: [gpu1]} in the file, or --proxy MODEL=URL, or discover: true on a connection)")
                : new ConfigError($"{Settings.Proxies.Flag}/{Settings.Proxies.ListFlag}", "", $"no model configured (expected MODEL=URL or MODEL=CONNECTION_ID, or --discover ID_OR_URL)"));
        }

        var aliases = ParseAliases(input.Aliases, models, discovers: input[Settings.Discover].Count > 0, draft.Errors);
        draft.Options = draft.Options with
        {
            Connections = draft.Connections.All,
            Models = [.. models.Select(static m => new ModelConfig(m.Name, m.ConnectionIds))],
            Aliases = aliases,
            Discovery = discovery,
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

            if (!TryResolveConnection(entry, target, connections, errors, draft.Notes, out var id))
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
    internal static bool TryResolveConnection(ConfigEntry entry, string target, ConnectionTable connections, List<ConfigError> errors, List<string> notes, out string id)
    {
        id = "";
        if (!TryReadDestination(entry, target, MaxConcurrencyForm, connections, errors, notes, out var knownId, out var baseUri, out _))
        {
            return false;
        }

        if (knownId is not null)
        {
            id = knownId;
            return true;
        }

        var ids = connections.IdsWithUri(baseUri!);
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

    private static void ParseConnections(IReadOnlyList<ConfigEntry> entries, ConnectionTable connections, List<ConfigError> errors, List<string> notes)
    {
        foreach (var entry in entries)
        {
            if (!ValueParsers.TrySplitPair(entry, ConnectionForm, "connection id", "URL", errors, out var id, out var url))
            {
                continue;
            }

            // Implicit connections are named by their URL, so an explicit id that looks like one
            // could collide with them; a proxy destination containing "://" is never read as an id anyway.
            if (ServerUrl.HasScheme(id))
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

            if (!ServerUrl.TryRead(url, out var baseUri, out var credentials, out var readAs, out var problem))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, problem ?? $"'{url}' is not an http(s) URL {ConnectionForm}"));
                connections.MarkFailed(id);
                continue;
            }

            AddNote(notes, entry, readAs);

            // Kept even when no model uses it: an unused connection is harmless, and rejecting it
            // would make a shared CONNECTIONS variable unusable with a smaller --proxy set.
            connections.AddExplicit(id, baseUri, credentials);
        }
    }

    private static List<ModelEntry> ParseProxies(IReadOnlyList<ConfigEntry> entries, ConnectionTable connections, List<ConfigError> errors, List<string> notes)
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

            if (!TryReadDestination(entry, destination, ProxyForm, connections, errors, notes, out var connectionId, out var baseUri, out var credentials))
            {
                continue;
            }

            if (connectionId is null)
            {
                connectionId = connections.GetOrAddImplicit(baseUri!, credentials);
                if (connectionId is null)
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, "this URL is already declared with other credentials (give them the same everywhere, or name the connection with --connection)"));
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

        return models;
    }

    // --discover ID_OR_URL[=PATTERN]: one rule per connection, its patterns gathered from every
    // entry that names it. A URL that no connection has declares one, as in --proxy.
    private static List<DiscoveryRule> ParseDiscovery(IReadOnlyList<ConfigEntry> entries, ConnectionTable connections, List<ConfigError> errors, List<string> notes)
    {
        var rules = new List<RuleDraft>();
        foreach (var entry in entries)
        {
            var text = entry.Value.Trim();
            if (text.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty entry {DiscoverForm}"));
                continue;
            }

            // A pattern never holds '=', nor does a URL: the last one separates them.
            var equals = text.LastIndexOf('=');
            var target = (equals < 0 ? text : text[..equals]).Trim();
            var pattern = equals < 0 ? null : text[(equals + 1)..].Trim();
            if (target.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty connection id or URL {DiscoverForm}"));
                continue;
            }

            var exclude = pattern is not null && pattern.StartsWith('!');
            var glob = exclude ? pattern![1..].Trim() : pattern;
            if (glob is not null && !DiscoveryRule.IsValidPattern(glob))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, glob.Length == 0
                    ? $"empty pattern {DiscoverForm}"
                    : $"invalid pattern '{glob}' (a model name's letters, digits and _-.:/, with * for any text and ? for one character)"));
                continue;
            }

            if (!TryReadDestination(entry, target, DiscoverForm, connections, errors, notes, out var id, out var baseUri, out var credentials))
            {
                continue;
            }

            if (id is null)
            {
                id = connections.GetOrAddImplicit(baseUri!, credentials);
                if (id is null)
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, "this URL is already declared with other credentials (give them the same everywhere, or name the connection with --connection)"));
                    continue;
                }
            }

            var rule = rules.Find(r => string.Equals(r.Id, id, StringComparison.Ordinal));
            if (rule is null)
            {
                rule = new RuleDraft(id);
                rules.Add(rule);
            }

            if (glob is not null)
            {
                var list = exclude ? rule.Exclude : rule.Include;
                if (!list.Contains(glob, StringComparer.OrdinalIgnoreCase))
                {
                    list.Add(glob);
                }
            }
        }

        return [.. rules.Select(static r => new DiscoveryRule(r.Id, r.Include, r.Exclude))];
    }

    private static List<AliasConfig> ParseAliases(IReadOnlyList<ConfigEntry> entries, List<ModelEntry> models, bool discovers, List<ConfigError> errors)
    {
        var modelsByCanonical = models.ToDictionary(m => m.Canonical, m => m.Name, StringComparer.OrdinalIgnoreCase);

        var aliases = new List<AliasConfig>();
        var sources = new List<ConfigEntry>();
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

            // Another spelling of its own model (a discovered one: a configured model's would
            // have been refused above): it changes nothing, and must not hide that model.
            if (string.Equals(aliasName.Canonical, targetName.Canonical, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!modelsByCanonical.TryGetValue(targetName.Canonical, out var configuredName))
            {
                // A model a server may list one day: until it does, the alias is unknown, as the model is.
                if (!discovers)
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, $"alias points to unknown model '{target}' (configure it, or let a connection's models be found with --discover)"));
                    continue;
                }

                configuredName = target.Trim();
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
            sources.Add(entry);
        }

        // An alias names a model, not another alias (possible only with --discover, where a
        // target need not be configured): the other alias hides any model of that name.
        for (var i = aliases.Count - 1; i >= 0; i--)
        {
            if (ModelName.TryParse(aliases[i].Model, out var target) && targetByAlias.TryGetValue(target.Canonical, out var further))
            {
                errors.Add(new ConfigError(sources[i].Source, sources[i].Value, $"alias points to '{aliases[i].Model}', itself an alias of '{further}'; point it at the model"));
                aliases.RemoveAt(i);
            }
        }

        return aliases;
    }

    // What follows the '=' of --proxy and --max-concurrency: the id of a --connection, else a
    // server's address (a URL, or host:port as OLLAMA_HOST is written). Neither is reported,
    // unless it names a connection whose own declaration failed (already reported).
    private static bool TryReadDestination(
        ConfigEntry entry,
        string text,
        string form,
        ConnectionTable connections,
        List<ConfigError> errors,
        List<string> notes,
        out string? id,
        out Uri? baseUri,
        out UrlCredentials? credentials)
    {
        id = null;
        baseUri = null;
        credentials = null;
        var hasScheme = ServerUrl.HasScheme(text);
        if (!hasScheme && connections.ContainsId(text))
        {
            id = text;
            return true;
        }

        if (!hasScheme && connections.HasFailed(text))
        {
            return false;
        }

        if (ServerUrl.TryRead(text, out var uri, out credentials, out var readAs, out var problem))
        {
            baseUri = uri;
            AddNote(notes, entry, readAs);
            return true;
        }

        errors.Add(new ConfigError(entry.Source, entry.Value, problem ?? (hasScheme ? $"'{text}' is not an http(s) URL {form}" : UnknownId(text, connections))));
        return false;
    }

    // A single word is read as an id, never as a host. With no --connection at all no id can have
    // been meant: if the word could be a host, say how to write it as one.
    private static string UnknownId(string text, ConnectionTable connections) => !connections.HasExplicit && ServerUrl.CouldBeHost(text)
        ? $"unknown connection id '{text}' (no --connection declares one; for the server of that host name, write http://{text}:{ServerUrl.DefaultPort})"
        : $"unknown connection id '{text}'";

    // "--proxy "llama3.2=10.0.0.5:11434": read as http://10.0.0.5:11434", for the start-up log.
    private static void AddNote(List<string> notes, ConfigEntry entry, string? readAs)
    {
        if (readAs is not null)
        {
            notes.Add($"{entry.Source} \"{UrlCredentials.Redact(entry.Value)}\": read as {readAs}");
        }
    }

    /// <summary>A discovery rule being assembled: its connection and its patterns so far.</summary>
    private sealed class RuleDraft(string id)
    {
        public string Id { get; } = id;

        public List<string> Include { get; } = [];

        public List<string> Exclude { get; } = [];
    }

    /// <summary>A model being assembled: its first spelling and its routes so far.</summary>
    private sealed class ModelEntry(string name, string canonical)
    {
        public string Name { get; } = name;

        public string Canonical { get; } = canonical;

        public List<string> ConnectionIds { get; } = [];
    }
}
