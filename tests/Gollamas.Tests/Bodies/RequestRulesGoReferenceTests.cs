using System.Text;
using System.Text.Json;
using Gollamas.Bodies;
using Gollamas.Tests.GoReference;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// The splices of request rules checked against Go itself: GoReference/requestdecode decodes each body, before
/// and after the rules, into a struct shaped like Ollama's chat and generate requests (pointer fields,
/// <c>options map[string]any</c>), and what Go reads after must be what the rules say of what it read before.
/// </summary>
public sealed class RequestRulesGoReferenceTests
{
    private static readonly Lazy<string> s_binary = new(() => GoFormValue.Build("requestdecode"));

    [GoFact]
    public async Task Splices_OfEveryRuleSet_GoReadsWhatTheRulesSay()
    {
        var random = new Random(20_261_203);
        var bodies = RequestDefaultsSpliceFuzzTests.Seeds.Select(Encoding.UTF8.GetBytes).ToList();
        while (bodies.Count < 1_500)
        {
            var seed = Encoding.UTF8.GetBytes(RequestDefaultsSpliceFuzzTests.Seeds[random.Next(RequestDefaultsSpliceFuzzTests.Seeds.Count)]).ToList();
            var palette = RequestDefaultsSpliceFuzzTests.Palette;
            var bytes = ByteMutations.Apply(seed, random.Next(1, 3), random, () => palette[random.Next(palette.Count)]);
            if (ModelPeek.Peek(bytes, acceptName: false, new char[ModelPeek.MaxNameChars]).Status == PeekStatus.Found)
            {
                bodies.Add(bytes);
            }
        }

        var cases = new List<(byte[] Before, byte[] After, RequestDefaults Rules)>();
        foreach (var body in bodies)
        {
            foreach (var rules in RequestDefaultsSpliceFuzzTests.Settings)
            {
                var spliced = RequestDefaultsSplice.Apply(new ForwardBody(body), rules);
                var after = new byte[spliced.Length];
                spliced.CopyTo(after);
                cases.Add((body, after, rules));
            }
        }

        var input = new MemoryStream();
        foreach (var (before, after, _) in cases)
        {
            Block(input, before);
            Block(input, after);
        }

        var lines = await GoFormValue.RunAsync(s_binary.Value, input.GetBuffer().AsMemory(0, (int)input.Length), 2 * cases.Count);

        var failures = new List<string>();
        var read = 0;
        for (var i = 0; i < cases.Count && failures.Count < 20; i++)
        {
            using var before = JsonDocument.Parse(lines[2 * i]);
            using var after = JsonDocument.Parse(lines[2 * i + 1]);
            if (!before.RootElement.GetProperty("ok").GetBoolean())
            {
                continue; // Ollama refuses the body whatever the rules do
            }

            read++;
            if (Problem(before.RootElement, after.RootElement, cases[i].Rules) is { } problem)
            {
                failures.Add($"{problem}: {Encoding.UTF8.GetString(cases[i].Before)} -> {Encoding.UTF8.GetString(cases[i].After)}");
            }
        }

        failures.Should().BeEmpty();
        read.Should().BeGreaterThan(cases.Count / 3, "most bodies are ones Go decodes");
    }

    private static string? Problem(JsonElement before, JsonElement after, RequestDefaults rules)
    {
        if (!after.GetProperty("ok").GetBoolean())
        {
            return "Go cannot decode the body after the splices";
        }

        string[] fields = ["keep_alive", "think", "format", "messages", .. RequestDefaultsSpliceFuzzTests.Settings.SelectMany(static s => s.Rules).Select(static r => r.Field).Where(static f => f.StartsWith("options.", StringComparison.Ordinal)).Distinct()];
        foreach (var field in fields)
        {
            var was = Get(before, field);
            var now = Get(after, field);
            var rule = rules.Find(field);
            JsonElement? expected = rule?.Action switch
            {
                null => was,
                RuleAction.Strip => null,
                RuleAction.Force => Parse(rule.Json!),
                _ => was ?? Parse(rule.Json!),
            };
            var same = expected is null ? now is null : now is { } value && JsonElement.DeepEquals(value, expected.Value);
            if (!same)
            {
                return $"{field}: Go reads {now?.GetRawText() ?? "nothing"}, expected {expected?.GetRawText() ?? "nothing"}";
            }
        }

        return null;
    }

    private static JsonElement? Get(JsonElement reading, string field)
    {
        var (part, name) = field.StartsWith("options.", StringComparison.Ordinal) ? ("options", field[8..]) : ("top", field);
        return reading.GetProperty(part).TryGetProperty(name, out var value) ? value : null;
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static void Block(MemoryStream input, byte[] bytes)
    {
        var length = Encoding.ASCII.GetBytes($"{bytes.Length}\n");
        input.Write(length, 0, length.Length);
        input.Write(bytes, 0, bytes.Length);
    }
}
