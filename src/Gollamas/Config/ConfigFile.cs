using Gollamas.Bodies;
namespace Gollamas.Config;

/// <summary>
/// Reads a YAML configuration file (<c>--config</c>) into a <see cref="ConfigInput"/>: the raw
/// entries of the same rows of <see cref="Settings"/> the command line fills, each naming its
/// place in the file (<c>gollamas.yaml:12: health_interval</c>), so every value is checked by
/// its row's parser exactly as a flag's is, and an error names the file, the line and the key.
/// </summary>
/// <remarks>
/// <para>
/// A setting's key is its row's <see cref="Setting.FileKey"/>: a value for a single-valued row,
/// a list (or a comma list, as on the command line) for a list row. The routes are written as a
/// structure rather than as the pairs of --connection, --proxy and --alias, and become those
/// pairs:
/// </para>
/// <code>
/// connections:
///   gpu1: {url: http://10.0.0.5:11434, max_concurrency: 2}   # gpu1=URL, and gpu1=2 for --max-concurrency
///   cpu1: http://10.0.0.7:11434                            # short form
/// models:
///   llama3.2: {connections: [gpu1, cpu1], aliases: [gpt-4o], keep_alive: 30m, preload: true}
///   qwen3:8b: [gpu1]                                       # short form: the routes
/// aliases:
///   gpt-4o-mini: qwen3:8b
/// </code>
/// <para>
/// A problem of the file's structure (an unknown key, a list where one value belongs, a
/// repeated key) is an error of its own; reading goes on, so that one run reports them all.
/// </para>
/// </remarks>
internal static class ConfigFile
{
    private const string UrlKey = "url";
    private const string RoutesKey = "connections";
    private const string AliasesKey = "aliases";
    private const string PreloadKey = "preload";
    private const string HeadersKey = "headers";
    private const string CaKey = "ca";
    private const string IncludeKey = "include";
    private const string ExcludeKey = "exclude";
    private const string DefaultsKey = "defaults";
    private const string ForceKey = "force";
    private const string StripKey = "strip";
    private const string OptionsKey = "options";

    // Request rules, per model or (at the top) for every model: what each key does.
    private static readonly Dictionary<string, RuleAction> s_ruleKeys = new(StringComparer.Ordinal)
    {
        [DefaultsKey] = RuleAction.Default,
        [ForceKey] = RuleAction.Force,
        [StripKey] = RuleAction.Strip,
    };

    // A plain scalar that JSON reads as a number, as YAML's core schema reads it.
    private static readonly System.Text.RegularExpressions.Regex s_jsonNumber =
        new(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    // Every row read from a file, by its key; the rows that are never (--config) by theirs.
    private static readonly Dictionary<string, Setting> s_byKey =
        Settings.All.Where(static s => s.FileKey is not null).ToDictionary(static s => s.FileKey!, StringComparer.Ordinal);

    private static readonly Dictionary<string, Setting> s_notInFile =
        Settings.All.Where(static s => s.NotInFile).ToDictionary(static s => Setting.KeyOf(s.Variable), StringComparer.Ordinal);

    // A model's own settings, each the MODEL=VALUE form of its row.
    private static readonly Setting[] s_perModel = [Settings.KeepAlive, Settings.ForceKeepAlive, Settings.NumCtx, Settings.ForceNumCtx];

    private static readonly string[] s_modelKeys =
        [RoutesKey, AliasesKey, .. s_perModel.Select(static s => s.FileKey!), PreloadKey, DefaultsKey, ForceKey, StripKey];

    // A connection's own value of a row that takes [ID_OR_URL=]N: max_concurrency: 2.
    private static readonly Setting[] s_perConnectionNumbers = [Settings.MaxConcurrency, Settings.Weight, Settings.NumParallel];

    private static readonly string[] s_connectionKeys =
        [UrlKey, .. s_perConnectionNumbers.Select(static s => s.FileKey!), HeadersKey, CaKey, Settings.Discover.FileKey!];

    private static readonly string[] s_discoverKeys = [IncludeKey, ExcludeKey];

    /// <summary>
    /// Reads the file <paramref name="path"/> names. Null when it cannot be read or is not YAML:
    /// then <paramref name="errors"/> holds the one line that says why.
    /// </summary>
    public static ConfigInput? Read(ConfigEntry path, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (ValueParsers.ReadableFile(path, errors) is not { } file)
        {
            return null;
        }

        byte[] content;
        try
        {
            content = File.ReadAllBytes(file);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The runtime's message is a resource key in the published build.
            errors.Add(new ConfigError(path.Source, path.Value, $"file not readable: {Diagnostics.FileProblem.Describe(exception, file)}"));
            return null;
        }

        // As File.ReadAllText reads it: UTF-8 unless a byte order mark says otherwise.
        using var reader = new StreamReader(new MemoryStream(content), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Parse(reader.ReadToEnd(), file, errors) is { } input ? input with { FileContent = content } : null;
    }

    /// <summary>
    /// Reads the text of a file called <paramref name="fileName"/> (the name its errors give).
    /// Null when the text is not YAML; otherwise the entries found, with every problem of the
    /// file's structure in <paramref name="errors"/>.
    /// </summary>
    public static ConfigInput? Parse(string text, string fileName, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        ArgumentNullException.ThrowIfNull(errors);
        var before = errors.Count;
        var root = ConfigNodeReader.Read(text, fileName, errors);
        if (root is null)
        {
            // Nothing but comments is an empty configuration; a parser error is the end.
            return errors.Count > before ? null : new ConfigInput();
        }

        var reader = new Reader(fileName, errors);
        reader.ReadRoot(root);
        return reader.ToInput();
    }

    /// <summary>The closest of <paramref name="known"/> to a mistyped <paramref name="key"/>, if one is close.</summary>
    public static string? ClosestKey(string key, IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(known);

        // The flag's or the variable's spelling of a key is one step away.
        var normalized = key.Replace('-', '_').ToLowerInvariant();
        if (normalized.StartsWith("gollamas_", StringComparison.Ordinal))
        {
            normalized = normalized["gollamas_".Length..];
        }

        string? closest = null;
        var best = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = EditDistance.Between(normalized, candidate);
            if (distance < best)
            {
                (closest, best) = (candidate, distance);
            }
        }

        // A third of the key's letters wrong (at least two) is still a typo; more is another word.
        return best <= Math.Max(2, key.Length / 3) ? closest : null;
    }

    /// <summary>One file being read: its entries so far, row by row, in file order.</summary>
    private sealed class Reader(string fileName, List<ConfigError> errors)
    {
        private readonly Dictionary<Setting, List<ConfigEntry>> _entries = [];
        private readonly List<RequestRuleEntry> _rules = [];

        // Models given settings but no connections, with where their error goes in the list: no
        // error if the file discovers models (the settings are for a model a server will list).
        private readonly List<MissingConnections> _withoutConnections = [];

        public ConfigInput ToInput()
        {
            var input = new ConfigInput { RequestRules = _rules };
            foreach (var (setting, entries) in _entries)
            {
                input = input.With(setting, entries);
            }

            return input;
        }

        public void ReadRoot(ConfigNode root)
        {
            if (root.Kind != ConfigNodeKind.Mapping)
            {
                Error(root.Line, "", $"expected settings as keys and values (health_interval: 10s), not {root.Described}");
                return;
            }

            foreach (var (key, value) in Keys(root, ""))
            {
                if (s_ruleKeys.TryGetValue(key, out var action))
                {
                    ReadRules(model: null, action, key, value);
                }
                else if (s_byKey.TryGetValue(key, out var setting))
                {
                    ReadSetting(setting, key, value);
                }
                else if (s_notInFile.TryGetValue(key, out var outside))
                {
                    Error(value.Line, key, $"not read from a file (give {outside.Flag} or {outside.Variable})");
                }
                else
                {
                    UnknownKey(value.Line, key, key, [.. s_byKey.Keys, .. s_ruleKeys.Keys]);
                }
            }

            if (!_entries.ContainsKey(Settings.Discover))
            {
                // Last first: each goes where it was found, among the errors in file order.
                for (var i = _withoutConnections.Count - 1; i >= 0; i--)
                {
                    var missing = _withoutConnections[i];
                    errors.Insert(missing.ErrorIndex, new ConfigError(Source(missing.Line, missing.Path), "", "no connections (the ids or URLs of the servers that serve it: connections: [gpu1]; or discover: on a connection that has it)"));
                }
            }
        }

        private void ReadSetting(Setting setting, string path, ConfigNode value)
        {
            if (setting == Settings.Connections)
            {
                ReadConnections(value);
            }
            else if (setting == Settings.Proxies)
            {
                ReadModels(value);
            }
            else if (setting == Settings.Aliases)
            {
                ReadAliases(value);
            }
            else if (setting.Kind is SettingKind.Scalar or SettingKind.Switch)
            {
                if (Value(value, path) is { } text)
                {
                    Add(setting, text, value.Line, path);
                }
            }
            else
            {
                ReadList(setting, path, value);
            }
        }

        // A list row: a YAML list, or one value; each item may be a comma list, as a repeated
        // flag's value may. API keys keep a blank item for their parser to refuse.
        private void ReadList(Setting setting, string path, ConfigNode value)
        {
            var keepBlank = setting.Kind == SettingKind.Secrets;
            if (value.Kind == ConfigNodeKind.Mapping)
            {
                Error(value.Line, path, "expected a list or a value, not a mapping");
                return;
            }

            if (value.Kind == ConfigNodeKind.Sequence && value.Items.Count == 0 && keepBlank)
            {
                // Read as "no keys", an empty list would serve every request without one.
                Error(value.Line, path, "empty list (leave the key out to require no API key)");
                return;
            }

            foreach (var item in value.Kind == ConfigNodeKind.Sequence ? value.Items : [value])
            {
                if (Value(item, path) is not { } text)
                {
                    continue;
                }

                // As on the command line, a blank value is none, and a blank item of a comma
                // list is kept for the parser to report.
                if (!keepBlank && string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                foreach (var part in text.Split(','))
                {
                    Add(setting, part.Trim(), item.Line, path);
                }
            }
        }

        // connections: {ID: URL} or {ID: {url: URL, max_concurrency: N}}.
        private void ReadConnections(ConfigNode value)
        {
            var section = Settings.Connections.FileKey!;
            if (!IsMapping(value, section, "connection ids and their URLs (gpu1: http://10.0.0.5:11434)"))
            {
                return;
            }

            foreach (var (id, connection) in Keys(value, section + "."))
            {
                var path = $"{section}.{id}";
                if (!IsName(id, connection, path, "a connection id"))
                {
                    continue;
                }

                if (connection.Kind != ConfigNodeKind.Mapping)
                {
                    if (Value(connection, path) is { } url)
                    {
                        Add(Settings.Connections, $"{id}={url}", connection.Line, path);
                    }

                    continue;
                }

                var hasUrl = false;
                foreach (var (key, setting) in Keys(connection, path + "."))
                {
                    var settingPath = $"{path}.{key}";
                    if (key == UrlKey)
                    {
                        hasUrl = true;
                        if (Value(setting, settingPath) is { } url)
                        {
                            Add(Settings.Connections, $"{id}={url}", setting.Line, settingPath);
                        }
                    }
                    else if (s_perConnectionNumbers.FirstOrDefault(s => s.FileKey == key) is { } row)
                    {
                        if (Value(setting, settingPath) is { } number)
                        {
                            Add(row, $"{id}={number}", setting.Line, settingPath);
                        }
                    }
                    else if (key == HeadersKey)
                    {
                        // headers: {Authorization: env:OLLAMA_AUTHORIZATION}: the values are read from there.
                        if (IsMapping(setting, settingPath, "header names and where their values are read (Authorization: env:OLLAMA_AUTHORIZATION)"))
                        {
                            foreach (var (name, from) in Keys(setting, settingPath + "."))
                            {
                                if (Value(from, $"{settingPath}.{name}") is { } source)
                                {
                                    Add(Settings.ConnectionHeaders, $"{id}={name}={source}", from.Line, $"{settingPath}.{name}");
                                }
                            }
                        }
                    }
                    else if (key == CaKey)
                    {
                        if (Value(setting, settingPath) is { } bundle)
                        {
                            Add(Settings.ConnectionCas, $"{id}={bundle}", setting.Line, settingPath);
                        }
                    }
                    else if (key == Settings.Discover.FileKey)
                    {
                        ReadDiscover(id, settingPath, setting);
                    }
                    else
                    {
                        UnknownKey(setting.Line, settingPath, key, s_connectionKeys);
                    }
                }

                if (!hasUrl)
                {
                    Error(connection.Line, path, "no url (the server's address: url: http://10.0.0.5:11434)");
                }
            }
        }

        // discover: true, or discover: {include: [llama*, qwen3:*], exclude: ["*:70b"]}: each
        // pattern an ID=PATTERN (or ID=!PATTERN) entry of --discover.
        private void ReadDiscover(string id, string path, ConfigNode value)
        {
            if (value.Kind != ConfigNodeKind.Mapping)
            {
                if (Value(value, path) is { } text && ValueParsers.Boolean(new ConfigEntry(text, Source(value.Line, path)), errors))
                {
                    Add(Settings.Discover, id, value.Line, path);
                }

                return;
            }

            Add(Settings.Discover, id, value.Line, path);
            foreach (var (key, patterns) in Keys(value, path + "."))
            {
                var patternsPath = $"{path}.{key}";
                if (key != IncludeKey && key != ExcludeKey)
                {
                    UnknownKey(patterns.Line, patternsPath, key, s_discoverKeys);
                    continue;
                }

                if (patterns.Kind == ConfigNodeKind.Mapping)
                {
                    Error(patterns.Line, patternsPath, "expected a list of model name patterns (qwen3:*), not a mapping");
                    continue;
                }

                foreach (var item in patterns.Kind == ConfigNodeKind.Sequence ? patterns.Items : [patterns])
                {
                    if (Value(item, patternsPath) is { } pattern)
                    {
                        Add(Settings.Discover, key == ExcludeKey ? $"{id}=!{pattern}" : $"{id}={pattern}", item.Line, patternsPath);
                    }
                }
            }
        }

        // models: {MODEL: [ROUTE...]} or {MODEL: {connections: [ROUTE...], aliases: [...], keep_alive: ..., preload: true}}.
        private void ReadModels(ConfigNode value)
        {
            var section = Settings.Proxies.FileKey!;
            if (!IsMapping(value, section, "model names and their connections (llama3.2: [gpu1])"))
            {
                return;
            }

            foreach (var (model, settings) in Keys(value, section + "."))
            {
                var path = $"{section}.{model}";
                if (!IsName(model, settings, path, "a model name"))
                {
                    continue;
                }

                if (settings.Kind != ConfigNodeKind.Mapping)
                {
                    ReadRoutes(model, path, settings);
                    continue;
                }

                var hasRoutes = false;
                foreach (var (key, setting) in Keys(settings, path + "."))
                {
                    var settingPath = $"{path}.{key}";
                    if (key == RoutesKey)
                    {
                        hasRoutes = true;
                        ReadRoutes(model, settingPath, setting);
                    }
                    else if (key == AliasesKey)
                    {
                        ReadModelAliases(model, settingPath, setting);
                    }
                    else if (key == PreloadKey)
                    {
                        if (Value(setting, settingPath) is { } text
                            && ValueParsers.Boolean(new ConfigEntry(text, Source(setting.Line, settingPath)), errors))
                        {
                            Add(Settings.Preload, model, setting.Line, settingPath);
                        }
                    }
                    else if (s_ruleKeys.TryGetValue(key, out var action))
                    {
                        ReadRules(model, action, settingPath, setting);
                    }
                    else if (s_perModel.FirstOrDefault(s => s.FileKey == key) is { } row)
                    {
                        if (Value(setting, settingPath) is { } text)
                        {
                            Add(row, $"{model}={text}", setting.Line, settingPath);
                        }
                    }
                    else
                    {
                        UnknownKey(setting.Line, settingPath, key, s_modelKeys);
                    }
                }

                if (!hasRoutes)
                {
                    _withoutConnections.Add(new MissingConnections(errors.Count, settings.Line, path));
                }
            }
        }

        private void ReadRoutes(string model, string path, ConfigNode routes)
        {
            // Without a route the model would be left out, not refused.
            if (routes.Kind == ConfigNodeKind.Sequence && routes.Items.Count == 0)
            {
                Error(routes.Line, path, "no connection (the ids or URLs of the servers that serve it, in order of preference)");
                return;
            }

            ReadPairs(Settings.Proxies, model, path, routes);
        }

        private void ReadModelAliases(string model, string path, ConfigNode aliases)
        {
            if (aliases.Kind == ConfigNodeKind.Mapping)
            {
                Error(aliases.Line, path, "expected a list of names, not a mapping");
                return;
            }

            foreach (var item in aliases.Kind == ConfigNodeKind.Sequence ? aliases.Items : [aliases])
            {
                if (Value(item, path) is { } text)
                {
                    foreach (var alias in text.Split(','))
                    {
                        Add(Settings.Aliases, $"{alias.Trim()}={model}", item.Line, path);
                    }
                }
            }
        }

        // The MODEL=ROUTE pairs of a model's routes: a list, or one value (a comma list too).
        private void ReadPairs(Setting setting, string model, string path, ConfigNode value)
        {
            if (value.Kind == ConfigNodeKind.Mapping)
            {
                Error(value.Line, path, "expected a list of connection ids or URLs, not a mapping");
                return;
            }

            foreach (var item in value.Kind == ConfigNodeKind.Sequence ? value.Items : [value])
            {
                if (Value(item, path) is { } text)
                {
                    foreach (var route in text.Split(','))
                    {
                        Add(setting, $"{model}={route.Trim()}", item.Line, path);
                    }
                }
            }
        }

        // aliases: {ALIAS: MODEL}.
        private void ReadAliases(ConfigNode value)
        {
            var section = Settings.Aliases.FileKey!;
            if (!IsMapping(value, section, "aliases and the models they stand for (gpt-4o: llama3.2)"))
            {
                return;
            }

            foreach (var (alias, model) in Keys(value, section + "."))
            {
                var path = $"{section}.{alias}";
                if (IsName(alias, model, path, "an alias") && Value(model, path) is { } target)
                {
                    Add(Settings.Aliases, $"{alias}={target}", model.Line, path);
                }
            }
        }

        // The keys of a mapping with their values, each key once: a key that is not a plain
        // value, or that comes again, is reported and skipped.
        private IEnumerable<(string Key, ConfigNode Value)> Keys(ConfigNode mapping, string prefix)
        {
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (key, value) in mapping.Pairs)
            {
                if (key.Kind != ConfigNodeKind.Scalar || key.IsNull)
                {
                    Error(key.Line, prefix.TrimEnd('.'), $"expected a name as key, not {(key.IsNull ? "nothing" : key.Described)}");
                    continue;
                }

                if (!seen.TryAdd(key.Text, key.Line))
                {
                    Error(key.Line, prefix + key.Text, $"repeated key (first at line {seen[key.Text]})");
                    continue;
                }

                yield return (key.Text, value);
            }
        }

        private bool IsMapping(ConfigNode value, string path, string expected)
        {
            if (value.Kind == ConfigNodeKind.Mapping)
            {
                return true;
            }

            Error(value.Line, path, $"expected a mapping of {expected}, not {value.Described}");
            return false;
        }

        // A name becomes the left side of a NAME=VALUE pair, which splits at its first '='.
        private bool IsName(string name, ConfigNode value, string path, string what)
        {
            if (!name.Contains('=', StringComparison.Ordinal))
            {
                return true;
            }

            Error(value.Line, path, $"'=' cannot be part of {what}");
            return false;
        }

        // A single value's text; null (and reported) for a list, a mapping or no value.
        private string? Value(ConfigNode value, string path)
        {
            if (value.Kind != ConfigNodeKind.Scalar)
            {
                Error(value.Line, path, $"expected a single value, not {value.Described}");
                return null;
            }

            if (value.IsNull)
            {
                Error(value.Line, path, "no value (leave the key out for the default)");
                return null;
            }

            return value.Text;
        }

        private void UnknownKey(int line, string path, string key, IEnumerable<string> known)
        {
            var closest = ClosestKey(key, known);
            Error(line, path, closest is null ? "unknown key" : $"unknown key (did you mean '{closest}'?)");
        }

        // defaults: {think: false, options: {temperature: 0.2}}, force: the same, strip: [think, options.seed].
        private void ReadRules(string? model, RuleAction action, string path, ConfigNode value)
        {
            if (action == RuleAction.Strip)
            {
                var names = value.Kind == ConfigNodeKind.Sequence ? value.Items : [value];
                foreach (var name in names)
                {
                    if (Value(name, path) is { } field)
                    {
                        _rules.Add(new RequestRuleEntry(model, action, field, null, Source(name.Line, path)));
                    }
                }

                return;
            }

            if (!IsMapping(value, path, "request fields and their values (options: {temperature: 0.2}, think: false)"))
            {
                return;
            }

            foreach (var (field, fieldValue) in Keys(value, path + "."))
            {
                var fieldPath = $"{path}.{field}";
                if (field == OptionsKey && fieldValue.Kind == ConfigNodeKind.Mapping)
                {
                    foreach (var (option, optionValue) in Keys(fieldValue, fieldPath + "."))
                    {
                        _rules.Add(new RequestRuleEntry(model, action, $"{OptionsKey}.{option}", Json(optionValue), Source(optionValue.Line, $"{fieldPath}.{option}")));
                    }

                    continue;
                }

                _rules.Add(new RequestRuleEntry(model, action, field, Json(fieldValue), Source(fieldValue.Line, fieldPath)));
            }
        }

        // A YAML value as the JSON the rule splices: plain numbers, booleans and null as such,
        // every other scalar a string, lists and mappings as arrays and objects.
        private static string Json(ConfigNode node)
        {
            using var buffer = new MemoryStream();
            using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
            {
                Write(writer, node);
            }

            return System.Text.Encoding.UTF8.GetString(buffer.ToArray());

            static void Write(System.Text.Json.Utf8JsonWriter writer, ConfigNode node)
            {
                switch (node.Kind)
                {
                    case ConfigNodeKind.Sequence:
                        writer.WriteStartArray();
                        foreach (var item in node.Items)
                        {
                            Write(writer, item);
                        }

                        writer.WriteEndArray();
                        break;
                    case ConfigNodeKind.Mapping:
                        writer.WriteStartObject();
                        foreach (var (key, value) in node.Pairs)
                        {
                            writer.WritePropertyName(key.Text);
                            Write(writer, value);
                        }

                        writer.WriteEndObject();
                        break;
                    default:
                        if (node.IsNull)
                        {
                            writer.WriteNullValue();
                        }
                        else if (node.IsPlain && node.Text is "true" or "false")
                        {
                            writer.WriteBooleanValue(node.Text == "true");
                        }
                        else if (node.IsPlain && s_jsonNumber.IsMatch(node.Text))
                        {
                            writer.WriteRawValue(node.Text);
                        }
                        else
                        {
                            writer.WriteStringValue(node.Text);
                        }

                        break;
                }
            }
        }

        private void Add(Setting setting, string value, int line, string path)
        {
            if (!_entries.TryGetValue(setting, out var entries))
            {
                entries = [];
                _entries.Add(setting, entries);
            }

            entries.Add(new ConfigEntry(value, Source(line, path)));
        }

        private string Source(int line, string path) => $"{ConfigNodeReader.Location(fileName, line)}: {path}";

        // A model without connections, and where its error goes among the others (a class: a
        // list of tuples would be one more generic instantiation in the binary).
        private sealed record MissingConnections(int ErrorIndex, int Line, string Path);

        private void Error(int line, string path, string reason) =>
            errors.Add(new ConfigError(path.Length == 0 ? ConfigNodeReader.Location(fileName, line) : Source(line, path), "", reason));
    }
}
