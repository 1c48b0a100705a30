using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Gollamas.Bodies;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// Feeds <see cref="ModelPeek.Peek"/> thousands of malformed and tricky bodies from fixed seeds and
/// checks every answer against an independent reading of the same bytes: System.Text.Json's
/// <see cref="JsonDocument"/> over the first JSON value, interpreted with Go's decoding rules
/// (ollama-api.md §0 and §8): keys match case-insensitively, the last duplicate wins, a JSON
/// null leaves the field as it was, a non-string model is a decoding error, only the first value
/// of the body is read, nesting is limited to 10 000 levels.
/// </summary>
public sealed class ModelPeekFuzzTests
{
    // Go's encoding/json maxNestingDepth: the 10 001st open bracket is an error.
    private const int GoMaxDepth = 10_000;

    private static readonly string[] s_seeds =
    [
        """{"model":"llama3.2","messages":[{"role":"user","content":"hi \u00e9 \ud83d\ude00 \"q\""}],"stream":false,"options":{"num_ctx":8192,"temperature":5e-1},"format":{"type":"object","properties":{"a":{"type":["string","null"]}}}}""",
        """{"name":"hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M","model":"","insecure":true}""",
        """{"MODEL":"a","Model":"b","model":"c","mOdEl":"llama3.2:latest"}""",
        """{"\u006dodel":"nomic-embed-te\u0078t","input":["x","y"],"truncate":true}""",
        """{"prompt":"no model here","images":["aGVsbG8="],"keep_alive":-1}""",
        """{"model":null,"name":"registry.ollama.ai/library/llama3.2:latest"}""",
        " \r\n\t{ \"model\" : \"m\" , \"n\" : -1.5E+308 , \"z\" : [ ] , \"o\" : { } } ",
        """{"model":42,"name":"x"}""",
    ];

    /// <summary>The valid bodies the fuzz tests truncate and mutate, for other readings to use too.</summary>
    internal static IReadOnlyList<string> Seeds => s_seeds;

    /// <summary>The bytes mutations draw from two times in three.</summary>
    internal static IReadOnlyList<byte> Palette => s_palette;

    private static readonly byte[] s_palette = "{}[]\":,\\ \t\nu0a-.e+tfn"u8.ToArray().Concat(new byte[] { 0x00, 0x01, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xED, 0xEF, 0xF0, 0xFF }).ToArray();

    [Fact]
    public void Peek_EveryTruncationOfValidBodies_NeverThrowsAndAgreesWithTheReference()
    {
        var failures = new List<string>();

        foreach (var seed in s_seeds)
        {
            var bytes = Encoding.UTF8.GetBytes(seed);
            for (var length = 0; length <= bytes.Length; length++)
            {
                Check(bytes.AsSpan(0, length).ToArray(), failures);
            }
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Peek_RandomByteFlipsInsertionsAndDeletions_NeverThrowsAndAgreesWithTheReference()
    {
        var random = new Random(20_240_611);
        var failures = new List<string>();

        for (var i = 0; i < 3_000; i++)
        {
            var body = Encoding.UTF8.GetBytes(s_seeds[random.Next(s_seeds.Length)]).ToList();
            Check(ByteMutations.Apply(body, random.Next(1, 4), random, () => random.Next(3) == 0 ? (byte)random.Next(256) : s_palette[random.Next(s_palette.Length)]), failures);
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Peek_CraftedTrickyBodies_NeverThrowsAndAgreesWithTheReference()
    {
        var failures = new List<string>();

        foreach (var body in CraftedBodies())
        {
            Check(body, failures);
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Peek_KeySpellingsAndValueKindsInEveryOrder_FollowGosLastKeyWinsRule()
    {
        string[] keys = ["\"model\"", "\"MODEL\"", "\"Model\"", "\"\\u006dodel\"", "\"\\u004D\\u004f\\u0044\\u0045\\u004C\"", "\"name\"", "\"NAME\"", "\"models\"", "\"m\\u00f6del\"", "\"mod\\u0435l\"", "\"model\\u0000\"", "\"mod\\ud800el\""];
        string[] values = ["\"llama3.2\"", "\"\"", "null", "\"a\\u0000b\"", "\" x \"", "1", "true", "[]", "{\"model\":\"x\"}", "\"\\ud800\"", "\"\\u00e9\""];
        var random = new Random(7);
        var failures = new List<string>();

        for (var i = 0; i < 2_000; i++)
        {
            var pairs = new List<string>();
            var count = random.Next(1, 5);
            for (var p = 0; p < count; p++)
            {
                pairs.Add(keys[random.Next(keys.Length)] + ":" + values[random.Next(values.Length)]);
            }

            Check(Encoding.UTF8.GetBytes("{" + string.Join(",", pairs) + "}"), failures);
        }

        failures.Should().BeEmpty();
    }

    // Cases where Go's behaviour can be stated exactly (ollama-api.md §0, §8; Go encoding/json).
    [Theory]
    [InlineData("""{"model":"a","model":null}""", true, nameof(PeekStatus.Found), "a")] // null leaves a Go string as it was
    [InlineData("""{"model":"a","MODEL":null,"Model":null}""", false, nameof(PeekStatus.Found), "a")]
    [InlineData("""{"model":"a","model":""}""", false, nameof(PeekStatus.ModelMissing), null)] // "" does overwrite
    [InlineData("""{"model":"a","model":"","name":"n"}""", true, nameof(PeekStatus.Found), "n")] // then name stands in
    [InlineData("""{"name":"n","name":null,"model":null}""", true, nameof(PeekStatus.Found), "n")]
    [InlineData("""{"model":null}""", false, nameof(PeekStatus.ModelMissing), null)]
    [InlineData("""{"model":"a","MoDeL":"b"}""", false, nameof(PeekStatus.Found), "b")]
    [InlineData("""{"m\u006fdel":"a"}""", false, nameof(PeekStatus.Found), "a")]
    [InlineData("""{"model\u0000":"a"}""", false, nameof(PeekStatus.ModelMissing), null)]
    [InlineData("""{"mod\ud800el":"a"}""", false, nameof(PeekStatus.ModelMissing), null)] // lone surrogate becomes U+FFFD: no match
    [InlineData("""{"\ud800":"a","model":"b"}""", false, nameof(PeekStatus.Found), "b")]
    [InlineData("""{"model":"\ud800"}""", false, nameof(PeekStatus.Found), "\uFFFD")]
    [InlineData("""{"model":"a\udc00b"}""", false, nameof(PeekStatus.Found), "a\uFFFDb")]
    [InlineData("""{"model":"\u0000"}""", false, nameof(PeekStatus.Found), "\0")]
    [InlineData("""{"model":1,"model":"a"}""", false, nameof(PeekStatus.ModelNotAString), null)] // the type error is kept
    [InlineData("""{"model":"a","model":[]}""", false, nameof(PeekStatus.ModelNotAString), null)]
    [InlineData("""{"name":{},"model":"a"}""", true, nameof(PeekStatus.ModelNotAString), null)]
    [InlineData("""{"name":{},"model":"a"}""", false, nameof(PeekStatus.Found), "a")] // name is not a field of chat
    [InlineData("""{"model":1,"x":}""", false, nameof(PeekStatus.InvalidJson), null)] // syntax is checked before types
    [InlineData("""{"model":"a"} {"model":"b"}""", false, nameof(PeekStatus.Found), "a")] // only the first value is read
    [InlineData("""{"model":"a"}]]]""", false, nameof(PeekStatus.Found), "a")]
    [InlineData("""{"model":"a",}""", false, nameof(PeekStatus.InvalidJson), null)]
    [InlineData("""{"model":'a'}""", false, nameof(PeekStatus.InvalidJson), null)]
    [InlineData("""{/*c*/"model":"a"}""", false, nameof(PeekStatus.InvalidJson), null)]
    [InlineData("""{"model":"a","n":NaN}""", false, nameof(PeekStatus.InvalidJson), null)]
    [InlineData("""{"model":"a","n":01}""", false, nameof(PeekStatus.InvalidJson), null)]
    [InlineData("""{"model":"a","n":1e999999999}""", false, nameof(PeekStatus.Found), "a")] // an ignored field: syntax only
    [InlineData("""{"model":"a\x"}""", false, nameof(PeekStatus.InvalidJson), null)]
    [InlineData("\"model\"", false, nameof(PeekStatus.NotAnObject), null)]
    [InlineData("", false, nameof(PeekStatus.EmptyBody), null)]
    [InlineData(" \t\r\n", false, nameof(PeekStatus.EmptyBody), null)] // Go: io.EOF, "missing request body"
    [InlineData("\f{\"model\":\"a\"}", false, nameof(PeekStatus.InvalidJson), null)] // \f is not JSON white space
    [InlineData("\u00a0{\"model\":\"a\"}", false, nameof(PeekStatus.InvalidJson), null)]
    [InlineData("\uFEFF{\"model\":\"a\"}", false, nameof(PeekStatus.InvalidJson), null)] // Go does not skip a BOM
    public void Peek_CasesWithKnownGoBehaviour_MatchOllama(string body, bool acceptName, string status, string? name)
    {
        var result = Peek(Encoding.UTF8.GetBytes(body), acceptName, out var found);

        result.Status.Should().Be(Enum.Parse<PeekStatus>(status));
        found.Should().Be(name);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })] // lone continuation-range byte
    [InlineData(new byte[] { 0xC0, 0xAF })] // overlong '/'
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // UTF-8-encoded surrogate
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98 })] // truncated 4-byte sequence
    public void Peek_InvalidUtf8InsideTheModelString_IsAcceptedWithReplacementCharactersAsGoDoes(byte[] invalid)
    {
        var body = Concat("{\"model\":\"ll"u8, invalid, "ama\"}"u8);

        var result = Peek(body, acceptName: false, out var name);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().StartWith("ll").And.EndWith("ama").And.Contain("\uFFFD");
    }

    [Fact]
    public void Peek_InvalidUtf8InAnotherString_StillFindsTheModelAsGoDoes()
    {
        var body = Concat("{\"prompt\":\""u8, [0xFF, 0xFE, 0xC0], "\",\"model\":\"llama3.2\"}"u8);

        var result = Peek(body, acceptName: false, out var name);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be("llama3.2");
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF })]
    [InlineData(new byte[] { 0xC3, 0xA9 })]
    public void Peek_NonAsciiBytesOutsideStrings_AreInvalidJsonAsInGo(byte[] bytes)
    {
        var body = Concat("{\"model\":\"a\","u8, bytes, "\"x\":1}"u8);

        var result = Peek(body, acceptName: false, out _);

        result.Status.Should().Be(PeekStatus.InvalidJson);
    }

    [Theory]
    [InlineData(GoMaxDepth, nameof(PeekStatus.Found))]
    [InlineData(GoMaxDepth + 1, nameof(PeekStatus.InvalidJson))]
    public void Peek_NestingAtGosLimit_AcceptedUpToTenThousandLevels(int depth, string status)
    {
        // The outer object is level 1; the array brackets supply the rest.
        var body = "{\"model\":\"a\",\"f\":" + new string('[', depth - 1) + new string(']', depth - 1) + "}";

        var result = Peek(Encoding.UTF8.GetBytes(body), acceptName: false, out _);

        result.Status.Should().Be(Enum.Parse<PeekStatus>(status));
    }

    [Theory]
    [InlineData(600, nameof(PeekStatus.Found))]
    [InlineData(601, nameof(PeekStatus.ModelTooLong))]
    public void Peek_EscapedModelAtTheLengthLimit_CountsUnescapedCharacters(int chars, string status)
    {
        var body = "{\"model\":\"" + string.Concat(Enumerable.Repeat("\\u0061", chars)) + "\"}";

        var result = Peek(Encoding.UTF8.GetBytes(body), acceptName: false, out var name);

        result.Status.Should().Be(Enum.Parse<PeekStatus>(status));
        if (status == nameof(PeekStatus.Found))
        {
            name.Should().Be(new string('a', chars));
        }
    }

    /// <summary>Malformed and tricky bodies: deep nesting, huge strings, escapes, invalid UTF-8, bad numbers, trailing data.</summary>
    internal static IEnumerable<byte[]> CraftedBodies()
    {
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

        // Deep nesting of arrays and objects, closed and unclosed, before and after the model.
        foreach (var depth in new[] { 64, 65, 9_999, 10_000, 10_001, 20_000, 100_000 })
        {
            yield return U(new string('[', depth) + new string(']', depth));
            yield return U(new string('[', depth));
            yield return U(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));
            yield return U(string.Concat(Enumerable.Repeat("{\"model\":", depth)) + "\"x\"" + new string('}', depth));
            yield return U("{\"f\":" + new string('[', depth) + new string(']', depth) + ",\"model\":\"a\"}");
            yield return U("{\"model\":\"a\",\"f\":" + new string('[', depth));
            yield return U("{\"model\":\"a\",\"f\":" + string.Concat(Enumerable.Repeat("{\"model\":", depth)) + "1" + new string('}', depth) + "}");
        }

        // Huge strings, in the model and elsewhere.
        yield return U("{\"model\":\"" + new string('m', 1_000_000) + "\"}");
        yield return U("{\"model\":\"" + new string('m', 600) + "\"}");
        yield return U("{\"model\":\"" + new string('m', 601) + "\"}");
        yield return U("{\"model\":\"" + new string('\u00e9', 600) + "\"}");
        yield return U("{\"model\":\"" + string.Concat(Enumerable.Repeat("\U0001F600", 300)) + "\"}");
        yield return U("{\"model\":\"" + string.Concat(Enumerable.Repeat("\U0001F600", 301)) + "\"}");
        yield return U("{\"model\":\"" + string.Concat(Enumerable.Repeat("\\ud83d\\ude00", 301)) + "\"}");
        yield return U("{\"model\":\"" + string.Concat(Enumerable.Repeat("\\u0061", 3_000)) + "\"}");
        yield return U("{\"images\":[\"" + new string('A', 5_000_000) + "\"],\"model\":\"llama3.2\"}");
        yield return U("{\"" + new string('k', 100_000) + "\":1,\"model\":\"a\"}");
        yield return U("{\"" + string.Concat(Enumerable.Repeat("\\u006d", 20)) + "\":1,\"model\":\"a\"}");

        // Escapes in keys and values.
        foreach (var escape in new[] { "\\u0000", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\udbff\\udfff", "\\ud800\\ud800", "\\uD83D\\uDE00", "\\/", "\\b\\f\\n\\r\\t", "\\u00", "\\u12G4", "\\", "\\'" })
        {
            yield return U("{\"model\":\"a" + escape + "b\"}");
            yield return U("{\"" + escape + "model\":\"a\"}");
            yield return U("{\"mod" + escape + "el\":\"a\",\"model\":\"b\"}");
            yield return U("{\"model\":\"b\",\"" + escape + "\":\"a\"}");
            yield return U("{\"model\":\"" + escape + "\"}");
        }

        // Invalid UTF-8 inside and outside strings, in keys and values.
        foreach (var invalid in new[] { new byte[] { 0xFF }, [0xFE, 0xFF], [0xC0, 0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xEF, 0xBB, 0xBF] })
        {
            yield return Concat("{\"model\":\""u8, invalid, "\"}"u8);
            yield return Concat("{\"model\":\"a"u8, invalid, "b\"}"u8);
            yield return Concat("{\"mod"u8, invalid, "el\":\"a\"}"u8);
            yield return Concat("{\"x\":\""u8, invalid, "\",\"model\":\"a\"}"u8);
            yield return Concat("{\"model\":\"a\""u8, invalid, "}"u8);
            yield return Concat(invalid, "{\"model\":\"a\"}"u8, ""u8);
            yield return Concat("{\"model\":\"a\"}"u8, invalid, ""u8);
            yield return Concat("{"u8, invalid, "}"u8);
        }

        // Raw control characters inside strings (Go rejects them).
        foreach (var control in new byte[] { 0x00, 0x01, 0x09, 0x0A, 0x1F, 0x7F })
        {
            yield return Concat("{\"model\":\"a"u8, [control], "\"}"u8);
        }

        // Non-string model and name values.
        foreach (var value in new[] { "0", "-0", "42", "-1.5e300", "1e999999999", "1E-999999999", "123456789012345678901234567890", "true", "false", "null", "[]", "[\"llama3.2\"]", "{}", "{\"model\":\"x\"}", "\"\"", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "tru", "nul", "'a'", "\"a\"\"b\"" })
        {
            yield return U("{\"model\":" + value + "}");
            yield return U("{\"name\":" + value + "}");
            yield return U("{\"model\":\"a\",\"model\":" + value + "}");
            yield return U("{\"model\":" + value + ",\"model\":\"a\"}");
            yield return U("{\"model\":\"a\",\"n\":" + value + "}");
        }

        // Prefixes, white space, trailing garbage.
        yield return [];
        yield return U(" ");
        yield return U("\t\r\n \n");
        yield return U("\v");
        yield return U("\f");
        yield return [0x00];
        yield return [0xEF, 0xBB, 0xBF];
        yield return Concat([0xEF, 0xBB, 0xBF], "{\"model\":\"a\"}"u8, ""u8);
        yield return Concat([0xFE, 0xFF], "{\"model\":\"a\"}"u8, ""u8);
        foreach (var trailing in new[] { "garbage", "}", "{", "]", ",{\"model\":\"evil\"}", "{\"model\":\"evil\"}", "\u0000", "\"", "\n\n\n", "[" + new string('[', 20_000) })
        {
            yield return U("{\"model\":\"a\"}" + trailing);
            yield return U(" {\"model\":\"a\"} " + trailing);
        }

        // Top-level values that are not objects.
        foreach (var value in new[] { "null", "true", "0", "\"model\"", "[{\"model\":\"a\"}]", "[]", "1e999999999" })
        {
            yield return U(value);
            yield return U(value + "{\"model\":\"a\"}");
        }
    }

    /// <summary>Runs the peek on <paramref name="body"/> with and without the name key, recording every disagreement.</summary>
    private static void Check(byte[] body, List<string> failures)
    {
        foreach (var acceptName in new[] { false, true })
        {
            var problem = Disagreement(body, acceptName);
            if (problem is not null && failures.Count < 20)
            {
                failures.Add($"{problem} (acceptName: {acceptName}) for {Describe(body)}");
            }
        }
    }

    private static string? Disagreement(byte[] body, bool acceptName)
    {
        var nameBuffer = new char[ModelPeek.MaxNameChars];
        ModelPeekResult result;
        try
        {
            result = ModelPeek.Peek(body, acceptName, nameBuffer);
        }
        catch (Exception ex)
        {
            return "threw " + ex.GetType().Name + ": " + ex.Message;
        }

        if (!Enum.IsDefined(result.Status))
        {
            return "undefined status " + (int)result.Status;
        }

        if (result.Status == PeekStatus.Found)
        {
            var end = (long)result.TokenStart + result.TokenLength;
            if (result.TokenStart < 0 || result.TokenLength < 2 || end > body.Length
                || body[result.TokenStart] != (byte)'"' || body[(int)end - 1] != (byte)'"')
            {
                return $"token [{result.TokenStart}, +{result.TokenLength}) is not a JSON string in the body";
            }

            if (result.NameLength is < 1 or > ModelPeek.MaxNameChars)
            {
                return "name length " + result.NameLength;
            }

            // The token alone must read back as the same name (what a rewrite relies on).
            var tokenName = ReadGoString(body.AsSpan(result.TokenStart, result.TokenLength));
            if (tokenName is not null && tokenName != new string(nameBuffer, 0, result.NameLength))
            {
                return "the token does not unescape to the reported name";
            }
        }
        else if (result.TokenStart != 0 || result.TokenLength != 0 || result.NameLength != 0)
        {
            return $"{result.Status} with a token or name";
        }

        var (expected, expectedName, lengthUnknown) = Reference(body, acceptName);
        if (lengthUnknown && result.Status is PeekStatus.Found or PeekStatus.ModelTooLong)
        {
            return null;
        }

        if (result.Status != expected)
        {
            return $"status {result.Status}, reference {expected}";
        }

        if (expected == PeekStatus.Found && expectedName is not null && new string(nameBuffer, 0, result.NameLength) != expectedName)
        {
            return $"name '{new string(nameBuffer, 0, result.NameLength)}', reference '{expectedName}'";
        }

        return null;
    }

    /// <summary>
    /// The model Ollama reads, worked out with <see cref="JsonDocument"/> over the first JSON value
    /// (no trailing data is looked at, as Go's decoder reads one value) and Go's field rules.
    /// The name is null when its exact spelling cannot be stated (Go and .NET replace invalid
    /// UTF-8 at different granularities); then only the status is compared.
    /// </summary>
    private static (PeekStatus Status, string? Name, bool LengthUnknown) Reference(byte[] body, bool acceptName)
    {
        if (body.AsSpan().TrimStart(" \t\r\n"u8).IsEmpty)
        {
            return (PeekStatus.EmptyBody, null, false);
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = GoMaxDepth, AllowMultipleValues = true });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return (PeekStatus.InvalidJson, null, false);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (PeekStatus.NotAnObject, null, false);
            }

            JsonElement? model = null;
            JsonElement? name = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var key = KeyOf(property);
                var isModel = string.Equals(key, "model", StringComparison.OrdinalIgnoreCase);
                var isName = acceptName && string.Equals(key, "name", StringComparison.OrdinalIgnoreCase);
                if (!isModel && !isName)
                {
                    continue;
                }

                if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                {
                    return (PeekStatus.ModelNotAString, null, false);
                }

                if (property.Value.ValueKind == JsonValueKind.Null)
                {
                    continue; // Go: null leaves a string field unchanged
                }

                if (isModel)
                {
                    model = property.Value;
                }
                else
                {
                    name = property.Value;
                }
            }

            var chosen = model is { } m && JsonMarshal.GetRawUtf8Value(m).Length > 2 ? model : name;
            if (chosen is not { } value || JsonMarshal.GetRawUtf8Value(value).Length == 2)
            {
                return (PeekStatus.ModelMissing, null, false);
            }

            var text = ReadGoString(JsonMarshal.GetRawUtf8Value(value));
            if (text is null)
            {
                return (PeekStatus.Found, null, true);
            }

            if (text.Length > ModelPeek.MaxNameChars)
            {
                return (PeekStatus.ModelTooLong, null, false);
            }

            return (PeekStatus.Found, text.Contains('\uFFFD', StringComparison.Ordinal) ? null : text, false);
        }
    }

    private static string? KeyOf(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null; // a lone surrogate or invalid UTF-8: Go reads U+FFFD, which matches no field
        }
    }

    /// <summary>
    /// Unescapes one JSON string token. Raw invalid UTF-8 becomes U+FFFD, as in Go; null when an
    /// escape sequence cannot be decoded by .NET (a lone surrogate), whose exact Go spelling the
    /// reference does not model.
    /// </summary>
    private static string? ReadGoString(ReadOnlySpan<byte> token)
    {
        var reader = new Utf8JsonReader(token);
        reader.Read();
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException) when (!reader.ValueIsEscaped)
        {
            return Encoding.UTF8.GetString(reader.ValueSpan);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static ModelPeekResult Peek(byte[] body, bool acceptName, out string? name)
    {
        var buffer = new char[ModelPeek.MaxNameChars];
        var result = ModelPeek.Peek(body, acceptName, buffer);
        name = result.Status == PeekStatus.Found ? new string(buffer, 0, result.NameLength) : null;
        return result;
    }

    private static byte[] Concat(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third) => [.. first, .. second, .. third];

    private static string Describe(byte[] body)
    {
        var text = new StringBuilder();
        foreach (var b in body.Take(160))
        {
            text.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return body.Length > 160 ? $"{text}... ({body.Length} bytes)" : text.ToString();
    }
}
