using System.Text;
using System.Text.Json;
using Gollamas.Bodies;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// Feeds <see cref="RequestDefaultsSplice.Apply"/> thousands of mutated bodies that <see cref="ModelPeek"/>
/// accepts, with rule sets that set, force and strip top-level fields and options entries, and
/// checks each result against an independent reading of the output with <see cref="JsonDocument"/>,
/// interpreted with Go's rules: top-level keys folded (ASCII case, K for the Kelvin sign, s for the
/// long s), the last one winning, null meaning unset; options objects merged in order, null
/// resetting them, map keys exact. A stripped field must have no member left at all.
/// </summary>
public sealed class RequestDefaultsSpliceFuzzTests
{
    private static readonly string[] s_seeds =
    [
        """{"model":"llama3.2","messages":[{"role":"user","content":"hi","keep_alive":1}],"options":{"temperature":0.5,"num_ctx":2048}}""",
        """{"model":"llama3.2","keep_alive":"5m","options":null,"options":{"seed":1}}""",
        """{"KEEP_ALIVE":null,"model":"m","Options":{"num_ctx":null},"options":{"num_ctx":1,"nested":{"num_ctx":2}}}""",
        """{"model":"m","\u212Aeep_alive":0,"option\u017F":{}}""",
        " { \"model\" : \"m\" , \"keep_alive\" : [ 1 , 2 ] , \"options\" : { } } trailing",
        """{"model":"m","prompt":"x","images":["aGVsbG8="],"format":{"type":"object","properties":{"keep_alive":{"type":"string"}}}}""",
        """{"think":true,"model":"m","THINK":false,"options":{"seed":1,"top_k":2,"seed":3},"keep_alive":-1,"think":null}""",
        """{"keep_alive":1,"keep_alive":2,"model":"m","options":{"temperature":1,"top_k":5},"options":{"top_k":null,"temperature":2}}""",
        """{ "options" : { "seed" : 1 } , "model" : "m" , "format" : "json" , "messages" : [ ] , "keep_alive" : "1m" }""",
        """{"model":"m","options":{"num_ctx":1,"temperature":1,"seed":1},"think":false,"options":null}""",
    ];

    /// <summary>The bodies the fuzz test mutates, for other readings to use too.</summary>
    internal static IReadOnlyList<string> Seeds => s_seeds;

    /// <summary>The bytes mutations draw from.</summary>
    internal static IReadOnlyList<byte> Palette => s_palette;

    /// <summary>The rule sets each body is rewritten with.</summary>
    internal static IReadOnlyList<RequestDefaults> Settings => s_settings;

    private static readonly byte[] s_palette = "{}[]\":,\\ \t\nu0a-.e+tfnkpo_hsd"u8.ToArray();

    private static readonly RequestDefaults[] s_settings =
    [
        new("-1", "-1", forceKeepAlive: false, 8192, forceNumCtx: false),
        new("\"0.25s\"", "250ms", forceKeepAlive: true, 4096, forceNumCtx: true),
        new("300", "5m", forceKeepAlive: true, null, forceNumCtx: false),
        new(null, null, forceKeepAlive: false, 16384, forceNumCtx: true),
        new([
            new RequestRule(RuleAction.Strip, "keep_alive", null),
            new RequestRule(RuleAction.Default, "think", "true"),
            new RequestRule(RuleAction.Force, "options.temperature", "0.5"),
            new RequestRule(RuleAction.Strip, "options.num_ctx", null),
        ]),
        new([
            new RequestRule(RuleAction.Strip, "options.seed", null),
            new RequestRule(RuleAction.Strip, "options.top_k", null),
            new RequestRule(RuleAction.Default, "options.num_ctx", "8192"),
            new RequestRule(RuleAction.Force, "keep_alive", "\"5m\""),
            new RequestRule(RuleAction.Strip, "think", null),
        ]),
        new([
            new RequestRule(RuleAction.Strip, "format", null),
            new RequestRule(RuleAction.Strip, "messages", null),
            new RequestRule(RuleAction.Force, "think", "\"high\""),
            new RequestRule(RuleAction.Default, "options.seed", "{\"a\":[1,2]}"),
        ]),
    ];

    // Every field some set names: a field a set has no rule for must come out as it went in.
    private static readonly string[] s_fields = [.. s_settings.SelectMany(static s => s.Rules).Select(static r => r.Field).Distinct()];

    [Fact]
    public void Apply_MutatedBodies_NeverThrowsAndOllamaWouldReadTheConfiguredValues()
    {
        var random = new Random(20_261_125);
        var failures = new List<string>();
        var checkedBodies = 0;
        for (var i = 0; i < 6_000 && failures.Count < 20; i++)
        {
            var body = Encoding.UTF8.GetBytes(s_seeds[random.Next(s_seeds.Length)]).ToList();
            var bytes = ByteMutations.Apply(body, random.Next(0, 3), random, () => s_palette[random.Next(s_palette.Length)]);
            if (ModelPeek.Peek(bytes, acceptName: false, new char[ModelPeek.MaxNameChars]).Status != PeekStatus.Found)
            {
                continue;
            }

            checkedBodies++;
            foreach (var settings in s_settings)
            {
                if (Disagreement(bytes, settings) is { } problem)
                {
                    failures.Add($"{problem} for {Encoding.UTF8.GetString(bytes)}");
                }
            }
        }

        failures.Should().BeEmpty();
        checkedBodies.Should().BeGreaterThan(1_500, "most mutations keep a body ModelPeek accepts");
    }

    /// <summary>What is wrong with <paramref name="settings"/> applied to <paramref name="body"/>, read as Go reads it; null when nothing.</summary>
    internal static string? Disagreement(byte[] body, RequestDefaults settings) => Disagreement(body, settings, s_fields);

    /// <summary>What is wrong with <paramref name="settings"/> applied to <paramref name="body"/> for <paramref name="fields"/>; null when nothing.</summary>
    internal static string? Disagreement(byte[] body, RequestDefaults settings, IEnumerable<string> fields)
    {
        byte[] output;
        try
        {
            var rewritten = RequestDefaultsSplice.Apply(new ForwardBody(body), settings);
            output = new byte[rewritten.Length];
            rewritten.CopyTo(output);
        }
        catch (Exception ex)
        {
            return "threw " + ex.GetType().Name + ": " + ex.Message;
        }

        var before = Read(body);
        Reading after;
        try
        {
            after = Read(output);
        }
        catch (JsonException ex)
        {
            return "output is not JSON: " + ex.Message + ": " + Encoding.UTF8.GetString(output);
        }

        foreach (var field in fields)
        {
            var rule = settings.Find(field);
            var (was, _) = before.Get(field);
            var (now, members) = after.Get(field);
            if (rule is null || (rule.IsOption && before.OptionsInvalid))
            {
                // No rule, or options Ollama refuses whatever is done: left as it was.
                if (now != was && rule?.Action != RuleAction.Strip)
                {
                    return $"{field} changed from {was ?? "unset"} to {now ?? "unset"} without a rule that applies";
                }

                continue;
            }

            var expected = rule.Action switch
            {
                RuleAction.Strip => null,
                RuleAction.Force => rule.Json,
                _ => was ?? rule.Json,
            };
            if (now != expected)
            {
                return $"{field} {now ?? "unset"}, expected {expected ?? "unset"} in {Encoding.UTF8.GetString(output)}";
            }

            if (rule.Action == RuleAction.Strip && members > 0)
            {
                return $"{field} stripped, yet {members} member(s) left in {Encoding.UTF8.GetString(output)}";
            }
        }

        return null;
    }

    // The first JSON value, read as Ollama's request types read it.
    private static Reading Read(byte[] body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 10_000 });
        reader.Read();
        reader.Skip();
        using var document = JsonDocument.Parse(body.AsMemory(0, (int)reader.BytesConsumed), new JsonDocumentOptions { MaxDepth = 10_000 });
        var top = new Dictionary<string, (string? Value, int Members)>();
        Dictionary<string, string?>? options = null;
        var optionMembers = new Dictionary<string, int>();
        var optionsInvalid = false;
        foreach (var member in document.RootElement.EnumerateObject())
        {
            var key = Fold(member.Name);
            if (key == "OPTIONS")
            {
                switch (member.Value.ValueKind)
                {
                    case JsonValueKind.Null:
                        options = null;
                        optionsInvalid = false;
                        break;
                    case JsonValueKind.Object:
                        options ??= [];
                        optionsInvalid = false;
                        foreach (var option in member.Value.EnumerateObject())
                        {
                            options[option.Name] = option.Value.ValueKind == JsonValueKind.Null ? null : option.Value.GetRawText();
                            optionMembers[option.Name] = optionMembers.GetValueOrDefault(option.Name) + 1;
                        }

                        break;
                    default:
                        optionsInvalid = true;
                        break;
                }

                continue;
            }

            var members = top.GetValueOrDefault(key).Members + 1;
            top[key] = (member.Value.ValueKind == JsonValueKind.Null ? null : member.Value.GetRawText(), members);
        }

        return new Reading(top, options ?? [], optionMembers, optionsInvalid);
    }

    // Go's foldName: ASCII upper case, and the two runes that fold onto ASCII letters.
    private static string Fold(string key) =>
        string.Concat(key.Select(static c => c switch
        {
            '\u212A' => 'K',
            '\u017F' => 'S',
            >= 'a' and <= 'z' => (char)(c - 32),
            _ => c,
        }));

    private sealed record Reading(
        Dictionary<string, (string? Value, int Members)> Top,
        Dictionary<string, string?> Options,
        Dictionary<string, int> OptionMembers,
        bool OptionsInvalid)
    {
        /// <summary>The value Go reads for <paramref name="field"/>, and how many members could give it.</summary>
        public (string? Value, int Members) Get(string field) =>
            field.StartsWith("options.", StringComparison.Ordinal)
                ? (Options.GetValueOrDefault(field[8..]), OptionMembers.GetValueOrDefault(field[8..]))
                : Top.GetValueOrDefault(Fold(field));
    }
}
