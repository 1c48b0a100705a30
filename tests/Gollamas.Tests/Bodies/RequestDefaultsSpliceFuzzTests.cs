using System.Text;
using System.Text.Json;
using Gollamas.Bodies;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// Feeds <see cref="RequestDefaultsSplice.Apply"/> thousands of mutated bodies that <see cref="ModelPeek"/>
/// accepts and checks each result against an independent reading of the output with
/// <see cref="JsonDocument"/>, interpreted with Go's rules: top-level keys folded (ASCII case,
/// K for the Kelvin sign, s for the long s), the last one winning, null meaning unset; options
/// objects merged in order, null resetting them, map keys exact.
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
    ];

    /// <summary>The bodies the fuzz test mutates, for other readings to use too.</summary>
    internal static IReadOnlyList<string> Seeds => s_seeds;

    /// <summary>The bytes mutations draw from.</summary>
    internal static IReadOnlyList<byte> Palette => s_palette;

    /// <summary>The defaults each body is rewritten with.</summary>
    internal static IReadOnlyList<RequestDefaults> Settings => s_settings;

    private static readonly byte[] s_palette = "{}[]\":,\\ \t\nu0a-.e+tfnkpo_"u8.ToArray();

    private static readonly RequestDefaults[] s_settings =
    [
        new("-1", "-1", forceKeepAlive: false, 8192, forceNumCtx: false),
        new("\"0.25s\"", "250ms", forceKeepAlive: true, 4096, forceNumCtx: true),
        new("300", "5m", forceKeepAlive: true, null, forceNumCtx: false),
        new(null, null, forceKeepAlive: false, 16384, forceNumCtx: true),
    ];

    [Fact]
    public void Apply_MutatedBodies_NeverThrowsAndOllamaWouldReadTheConfiguredValues()
    {
        var random = new Random(20_261_125);
        var failures = new List<string>();
        var checkedBodies = 0;
        for (var i = 0; i < 4_000 && failures.Count < 20; i++)
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
        checkedBodies.Should().BeGreaterThan(1_000, "most mutations keep a body ModelPeek accepts");
    }

    private static string? Disagreement(byte[] body, RequestDefaults settings)
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
        Fields after;
        try
        {
            after = Read(output);
        }
        catch (JsonException ex)
        {
            return "output is not JSON: " + ex.Message + ": " + Encoding.UTF8.GetString(output);
        }

        if (settings.KeepAliveText is not null)
        {
            var expected = settings.ForceKeepAlive || before.KeepAlive is null ? Encoding.UTF8.GetString(settings.KeepAliveValue.Span) : before.KeepAlive;
            if (after.KeepAlive != expected)
            {
                return $"keep_alive {after.KeepAlive ?? "unset"}, expected {expected}";
            }
        }
        else if (after.KeepAlive != before.KeepAlive)
        {
            return "keep_alive changed without a setting";
        }

        if (before.OptionsInvalid)
        {
            return after.NumCtx == before.NumCtx ? null : "num_ctx changed in a body whose options Ollama refuses";
        }

        if (settings.NumCtx is { } numCtx)
        {
            var expected = settings.ForceNumCtx || before.NumCtx is null ? numCtx.ToString(System.Globalization.CultureInfo.InvariantCulture) : before.NumCtx;
            if (after.NumCtx != expected)
            {
                return $"num_ctx {after.NumCtx ?? "unset"}, expected {expected}";
            }
        }
        else if (after.NumCtx != before.NumCtx)
        {
            return "num_ctx changed without a setting";
        }

        return null;
    }

    // The first JSON value, read as Ollama's request types read it.
    private static Fields Read(byte[] body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 10_000 });
        reader.Read();
        reader.Skip();
        using var document = JsonDocument.Parse(body.AsMemory(0, (int)reader.BytesConsumed), new JsonDocumentOptions { MaxDepth = 10_000 });
        string? keepAlive = null;
        Dictionary<string, string?>? options = null;
        var optionsInvalid = false;
        foreach (var member in document.RootElement.EnumerateObject())
        {
            var key = Fold(member.Name);
            if (key == "KEEP_ALIVE")
            {
                keepAlive = member.Value.ValueKind == JsonValueKind.Null ? null : member.Value.GetRawText();
            }
            else if (key == "OPTIONS")
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
                        }

                        break;
                    default:
                        optionsInvalid = true;
                        break;
                }
            }
        }

        return new Fields(keepAlive, options?.GetValueOrDefault("num_ctx"), optionsInvalid);
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

    private sealed record Fields(string? KeepAlive, string? NumCtx, bool OptionsInvalid);
}
