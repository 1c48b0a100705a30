using System.Globalization;
using Gollamas.Bodies;

namespace Gollamas.Config;

/// <summary>
/// Reads the model lifecycle settings (<c>--keep-alive</c>, <c>--force-keep-alive</c>,
/// <c>--num-ctx</c>, <c>--force-num-ctx</c>, <c>--preload</c>) and the request rules
/// (<see cref="ConfigInput.RequestRules"/>) into <see cref="LifecycleOptions"/>.
/// Each setting is global (<c>VALUE</c>) or per model (<c>MODEL=VALUE</c>, where MODEL is any
/// spelling of a configured model or of one of its aliases); a per-model value wins over a
/// global one. Values Ollama would refuse are errors here, at start-up.
/// </summary>
/// <remarks>
/// The four keep-alive and num-ctx flags are spellings of request rules: <c>--keep-alive D</c>
/// sets <c>keep_alive</c> when absent, <c>--force-keep-alive D</c> always, <c>--num-ctx N</c> and
/// <c>--force-num-ctx N</c> the same for <c>options.num_ctx</c>. A model's rules are the global
/// ones with its own in place of those for the same field; they apply in the order their fields
/// were first named (the flags' first, keep_alive before num_ctx), which is the order added
/// members appear in. Two rules for one field in one scope are an error.
/// </remarks>
internal static class LifecycleParser
{
    private const string KeepAliveForm = "(expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)";
    private static readonly TimeSpan Forever = TimeSpan.FromDays(36500);
    private static readonly TimeSpan MinimumPingInterval = TimeSpan.FromSeconds(1);
    private const string NumCtxForm = "(expected [MODEL=]N, a whole number of tokens of at least 1)";

    /// <summary>
    /// The combining step of the lifecycle rows (--keep-alive to --ping-interval), run after every
    /// row: the models and aliases are known by then, and every lifecycle setting names them.
    /// </summary>
    public static void Parse(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var input = draft.Input;
        var errors = draft.Errors;
        var modelNames = draft.Options.Models.Select(static m => m.Name).ToArray();
        var pingIntervalEntry = input.PingInterval;
        var pingInterval = ValueParsers.Duration(pingIntervalEntry, errors, zeroMeansNone: true);
        var resolver = new ModelResolver(modelNames, draft.Options.Aliases, discovers: draft.Options.Discovery.Count > 0);
        var keepAlive = ParseScoped(input.KeepAlive, resolver, TryParseKeepAlive, KeepAliveForm, errors);
        var forceKeepAlive = ParseScoped(input.ForceKeepAlive, resolver, TryParseKeepAlive, KeepAliveForm, errors);
        var numCtx = ParseScoped(input.NumCtx, resolver, TryParseNumCtx, NumCtxForm, errors);
        var forceNumCtx = ParseScoped(input.ForceNumCtx, resolver, TryParseNumCtx, NumCtxForm, errors);
        CheckOneMode(keepAlive, forceKeepAlive, "keep-alive", errors);
        CheckOneMode(numCtx, forceNumCtx, "num-ctx", errors);

        var rules = new RuleSets();
        rules.AddFlag("keep_alive", keepAlive, forceKeepAlive);
        rules.AddFlag("options.num_ctx", numCtx, forceNumCtx);
        foreach (var rule in input.RequestRules)
        {
            rules.Add(rule, resolver, errors);
        }

        var global = rules.Build(null);
        var perModel = new Dictionary<string, RequestDefaults>(StringComparer.Ordinal);
        // The configured models, then those a server may list one day (with discovery on).
        foreach (var model in modelNames.Concat(rules.Models.Where(m => !modelNames.Contains(m, StringComparer.Ordinal)).Order(StringComparer.Ordinal)))
        {
            // A model's own rule for a field wins over the global one, whichever action each has.
            if (rules.HasOwn(model))
            {
                perModel[model] = rules.Build(model);
            }
        }

        var options = new LifecycleOptions
        {
            Global = global,
            PerModel = perModel,
            PingInterval = pingInterval,
        };
        var preload = ParsePreload(input.Preload, resolver, options, errors);
        if (pingInterval > TimeSpan.Zero && pingIntervalEntry is { } entry)
        {
            if (pingInterval < MinimumPingInterval)
            {
                // Each round would start as the last one ends: load requests without a pause.
                errors.Add(new ConfigError(entry.Source, entry.Value, "out of range (expected 0 for never, or 1s to 1000h)"));
            }
            else if (preload.Count == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, "pings keep the --preload models loaded, and none is given"));
            }
        }

        draft.Options = draft.Options with { Lifecycle = options with { Preload = preload } };
    }

    private static List<string> ParsePreload(IReadOnlyList<ConfigEntry> entries, ModelResolver resolver, LifecycleOptions options, List<ConfigError> errors)
    {
        var models = new List<string>();
        foreach (var entry in entries)
        {
            var text = entry.Value.Trim();
            if (text.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, "empty entry (expected a configured model or alias)"));
                continue;
            }

            // A preload needs a route to load through: a model discovery may find one day has none yet.
            if (!resolver.TryResolve(text, out var model, configuredOnly: true))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"'{text}' is not a configured model or alias"));
                continue;
            }

            if (options.For(model).KeepAliveText is { } keepAlive && UnloadsOnPreload(options.For(model)))
            {
                // Ollama reads an empty generate request with keep_alive 0 as "unload"; before
                // 0.7 any keep_alive under a second.
                errors.Add(new ConfigError(entry.Source, entry.Value, $"model '{model}' has keep-alive {keepAlive}: a preload would unload it (give -1 or at least 1s)"));
                continue;
            }

            if (!models.Contains(model, StringComparer.Ordinal))
            {
                models.Add(model);
            }
        }

        return models;
    }

    // 0, or a fraction of a second (sent as a string such as "0.25s").
    private static bool UnloadsOnPreload(RequestDefaults defaults)
    {
        var value = defaults.KeepAliveValue.Span;
        return value.SequenceEqual("0"u8) || value.StartsWith("\"0."u8);
    }


    // The same scope in both modes leaves it unclear which the operator meant.
    private static void CheckOneMode(Scoped normal, Scoped forced, string setting, List<ConfigError> errors)
    {
        if (normal.GlobalEntry is { } global && forced.GlobalEntry is not null)
        {
            errors.Add(new ConfigError(global.Source, global.Value, $"a global {setting} is also forced ({forced.GlobalEntry.Value.Source}); give one of them"));
        }

        foreach (var (model, entry) in normal.Entries)
        {
            if (forced.Entries.TryGetValue(model, out var other))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"the {setting} of model '{model}' is also forced ({other.Source} \"{other.Value}\"); give one of them"));
            }
        }
    }

    private static Scoped ParseScoped(
        IReadOnlyList<ConfigEntry> entries,
        ModelResolver resolver,
        TryParseValue parse,
        string form,
        List<ConfigError> errors)
    {
        var scoped = new Scoped();
        foreach (var entry in entries)
        {
            var text = entry.Value.AsSpan().Trim();
            if (text.IsEmpty)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty entry {form}"));
                continue;
            }

            // Neither a model name nor a value contains '=': the first one separates them.
            var equals = text.IndexOf('=');
            var valueText = (equals < 0 ? text : text[(equals + 1)..]).Trim().ToString();
            if (valueText.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty value {form}"));
                continue;
            }

            if (!parse(valueText, out var json, out var problem))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"{problem} {form}"));
                continue;
            }

            var value = new Value(json, valueText);
            if (equals < 0)
            {
                if (scoped.GlobalEntry is { } previous)
                {
                    errors.Add(new ConfigError(entry.Source, entry.Value, $"global value already set (\"{previous.Value}\"); give MODEL=VALUE for one model"));
                    continue;
                }

                scoped.Global = value;
                scoped.GlobalEntry = entry;
                continue;
            }

            var modelText = text[..equals].Trim().ToString();
            if (modelText.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"empty model name {form}"));
                continue;
            }

            if (!resolver.TryResolve(modelText, out var model))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"'{modelText}' is not a configured model or alias"));
                continue;
            }

            if (scoped.Entries.TryGetValue(model, out var earlier))
            {
                errors.Add(new ConfigError(entry.Source, entry.Value, $"model '{model}' already has a value (\"{earlier.Value}\")"));
                continue;
            }

            scoped.PerModel[model] = value;
            scoped.Entries[model] = entry;
        }

        return scoped;
    }

    /// <summary>
    /// What Ollama's <c>keep_alive</c> accepts: a Go duration (<c>5m</c>, <c>1h30m</c>) or a
    /// number of seconds; negative means forever, 0 means unload after each request. Whole
    /// seconds are sent as a JSON number (<c>-1</c> for any negative); a fraction as a Go duration
    /// string (<c>"0.25s"</c>), because Ollama before 0.12 truncated a JSON number to whole
    /// seconds, which would turn 250ms into 0, "unload".
    /// </summary>
    private static bool TryParseKeepAlive(string text, out string json, out string problem)
    {
        json = "";
        problem = "";
        if (!DurationParser.TryParse(text, out var duration))
        {
            problem = "invalid duration";
            return false;
        }

        // 50ns truncates to 0 ticks, and 0 means "unload": only a zero as written is one.
        if (ValueParsers.TruncatedToZero(text, duration))
        {
            problem = "shorter than 1ms";
            return false;
        }

        // Near Go's largest duration the seconds, read as a float64, round past it and wrap to a
        // negative number; a century is forever as far as a loaded model is concerned.
        if (duration < TimeSpan.Zero || duration > Forever)
        {
            json = "-1";
            return true;
        }

        var seconds = (duration.Ticks / (decimal)TimeSpan.TicksPerSecond).ToString("0.#######", CultureInfo.InvariantCulture);
        json = duration.Ticks % TimeSpan.TicksPerSecond == 0 ? seconds : $"\"{seconds}s\"";
        return true;
    }

    private static bool TryParseNumCtx(string text, out string json, out string problem)
    {
        json = "";
        problem = "";
        if (!ValueParsers.TryParseWholeNumber(text, minimum: 1, out var value))
        {
            problem = "invalid context size";
            return false;
        }

        json = value.ToString(CultureInfo.InvariantCulture);
        return true;
    }

    private delegate bool TryParseValue(string text, out string json, out string problem);

    /// <summary>A parsed value: its JSON token, and the text the operator wrote.</summary>
    private sealed record Value(string Json, string Text);

    /// <summary>One setting: its global value and its per-model values, keyed by configured model name.</summary>
    private sealed class Scoped
    {
        public Value? Global { get; set; }

        public ConfigEntry? GlobalEntry { get; set; }

        public Dictionary<string, Value> PerModel { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, ConfigEntry> Entries { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>The rules of every scope (null: every model), by field, and the order fields were first named in.</summary>
    private sealed class RuleSets
    {
        private readonly Dictionary<string, int> _fieldOrder = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Dictionary<string, (RequestRule Rule, string Source)>> _perModel = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (RequestRule Rule, string Source)> _global = new(StringComparer.Ordinal);

        /// <summary>A flag pair's rules (its conflicts are reported by <see cref="CheckOneMode"/>, in the flags' words).</summary>
        public void AddFlag(string field, Scoped normal, Scoped forced)
        {
            if ((forced.Global ?? normal.Global) is { } global)
            {
                Set(null, Rule(field, global, forced.Global is not null), (forced.GlobalEntry ?? normal.GlobalEntry)!.Value.Source);
            }

            foreach (var (model, value) in normal.PerModel)
            {
                if (!forced.PerModel.ContainsKey(model))
                {
                    Set(model, Rule(field, value, force: false), normal.Entries[model].Source);
                }
            }

            foreach (var (model, value) in forced.PerModel)
            {
                Set(model, Rule(field, value, force: true), forced.Entries[model].Source);
            }
        }

        public void Add(RequestRuleEntry entry, ModelResolver resolver, List<ConfigError> errors)
        {
            if (!RequestRule.TryParseField(entry.Field, out _, out _, out var problem))
            {
                errors.Add(new ConfigError(entry.Source, entry.Field, problem));
                return;
            }

            if (entry.Action == RuleAction.Strip ? entry.Value is not null : entry.Value is null)
            {
                errors.Add(new ConfigError(entry.Source, entry.Field, entry.Action == RuleAction.Strip ? "a strip takes no value" : "the rule has no value (expected a JSON value)"));
                return;
            }

            if (entry.Value is { } json && !RequestRule.IsOneJsonValue(json))
            {
                errors.Add(new ConfigError(entry.Source, json, $"the value of {entry.Field} is not one JSON value (e.g. 0.2, true, \"5m\", {{\"type\":\"object\"}})"));
                return;
            }

            string? model = null;
            if (entry.Model is { } modelText && !resolver.TryResolve(modelText.Trim(), out model))
            {
                errors.Add(new ConfigError(entry.Source, modelText, $"'{modelText.Trim()}' is not a configured model or alias"));
                return;
            }

            if (Scope(model).TryGetValue(entry.Field, out var earlier))
            {
                var scope = model is null ? "every model" : $"model '{model}'";
                errors.Add(new ConfigError(entry.Source, entry.Field, $"{scope} already has a rule for {entry.Field} ({earlier.Source}); give one of them"));
                return;
            }

            Set(model, new RequestRule(entry.Action, entry.Field, entry.Value), entry.Source);
        }

        /// <summary>Every model with a rule of its own.</summary>
        public IEnumerable<string> Models => _perModel.Keys;

        public bool HasOwn(string model) => _perModel.ContainsKey(model);

        /// <summary>The rules of <paramref name="model"/> (null: of every model), in the order their fields were first named.</summary>
        public RequestDefaults Build(string? model)
        {
            var rules = new Dictionary<string, RequestRule>(StringComparer.Ordinal);
            foreach (var (field, (rule, _)) in _global)
            {
                rules[field] = rule;
            }

            if (model is not null && _perModel.TryGetValue(model, out var own))
            {
                foreach (var (field, (rule, _)) in own)
                {
                    rules[field] = rule;
                }
            }

            return rules.Count == 0
                ? RequestDefaults.None
                : new RequestDefaults([.. rules.Values.OrderBy(r => _fieldOrder[r.Field])]);
        }

        private static RequestRule Rule(string field, Value value, bool force) =>
            new(force ? RuleAction.Force : RuleAction.Default, field, value.Json, value.Text);

        private Dictionary<string, (RequestRule Rule, string Source)> Scope(string? model)
        {
            if (model is null)
            {
                return _global;
            }

            if (!_perModel.TryGetValue(model, out var rules))
            {
                rules = new Dictionary<string, (RequestRule Rule, string Source)>(StringComparer.Ordinal);
                _perModel[model] = rules;
            }

            return rules;
        }

        private void Set(string? model, RequestRule rule, string source)
        {
            _fieldOrder.TryAdd(rule.Field, _fieldOrder.Count);
            Scope(model)[rule.Field] = (rule, source);
        }
    }

    /// <summary>Any spelling of a configured model or alias, to the configured model's name.</summary>
    // A model named by a setting: a configured model or an alias of one; with discovery on, also
    // any valid name, in Ollama's short form (llama3.2:latest), which a server may list one day:
    // its settings apply when it does (LifecycleOptions.For(ModelName)).
    private sealed class ModelResolver
    {
        private readonly Dictionary<string, string> _byCanonical = new(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _configured = new(StringComparer.OrdinalIgnoreCase);
        private readonly bool _discovers;

        public ModelResolver(IReadOnlyList<string> modelNames, IReadOnlyList<AliasConfig> aliases, bool discovers)
        {
            _discovers = discovers;
            foreach (var name in modelNames)
            {
                if (ModelName.TryParse(name, out var parsed))
                {
                    _byCanonical.TryAdd(parsed.Canonical, name);
                    _configured.Add(parsed.Canonical);
                }
            }

            foreach (var alias in aliases)
            {
                // An alias of a model not configured (discovery) stands for that model's short form.
                if (ModelName.TryParse(alias.Alias, out var parsed))
                {
                    _byCanonical.TryAdd(parsed.Canonical, !_configured.Contains(Canonical(alias.Model)) && ModelName.TryParse(alias.Model, out var target) ? target.DisplayShortest : alias.Model);
                }
            }
        }

        private static string Canonical(string name) => ModelName.TryParse(name, out var parsed) ? parsed.Canonical : name;

        public bool TryResolve(string text, out string model, bool configuredOnly = false)
        {
            model = "";
            if (!ModelName.TryParse(text, out var parsed))
            {
                return false;
            }

            if (_byCanonical.TryGetValue(parsed.Canonical, out model!))
            {
                return !configuredOnly || ModelName.TryParse(model, out var target) && _configured.Contains(target.Canonical);
            }

            model = parsed.DisplayShortest;
            return _discovers && !configuredOnly;
        }
    }
}
