using System.Text;
using System.Text.Json;
using Gollamas.Bodies;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// <see cref="RequestDefaultsSplice"/> with rules on any field: defaults, forced values and strips of top-level
/// members and options entries, asserted as the exact bytes forwarded, which must still parse as JSON and read,
/// by Go's rules, as the rules say (<see cref="RequestDefaultsSpliceFuzzTests.Disagreement"/>).
/// </summary>
public sealed class RequestRulesSpliceTests
{
    [Theory]
    [InlineData("""{"model":"m","think":true}""", """{"model":"m"}""")] // last
    [InlineData("""{"think":true,"model":"m"}""", """{"model":"m"}""")] // first
    [InlineData("""{"model":"m","think":true,"stream":false}""", """{"model":"m","stream":false}""")] // middle
    [InlineData("""{"think":true}""", """{}""")] // the only member
    [InlineData("""{ "think" : true }""", """{  }""")]
    [InlineData("{ \"think\" : true ,\n \"model\" : \"m\" }", "{ \"model\" : \"m\" }")]
    [InlineData("{ \"model\" : \"m\" ,\n \"think\" : true\n}", "{ \"model\" : \"m\"\n}")]
    [InlineData("""{"think":true,"THINK":false,"model":"m","Think":null}""", """{"model":"m"}""")] // every fold-equal duplicate
    [InlineData("""{"think":true,"Think":1,"model":"m","stream":true}""", """{"model":"m","stream":true}""")] // a leading run
    [InlineData("""{"model":"m","think":{"a":[1,{"b":2}]},"stream":true}""", """{"model":"m","stream":true}""")]
    [InlineData("{\"model\":\"m\",\"t\\u0068ink\":\"high\"}", """{"model":"m"}""")]
    [InlineData("{\"model\":\"m\",\"THIN\u212A\":\"high\"}", """{"model":"m"}""")] // KELVIN SIGN folds to k
    [InlineData("""{"model":"m","thinks":true,"messages":[{"think":true}]}""", """{"model":"m","thinks":true,"messages":[{"think":true}]}""")]
    [InlineData("""{"model":"m","options":{"think":true}}""", """{"model":"m","options":{"think":true}}""")]
    [InlineData("""{"model":"m"} {"think":true}""", """{"model":"m"} {"think":true}""")] // Go reads the first value only
    public void Strip_TopLevel_RemovesEveryMemberGoReads(string body, string expected)
    {
        AssertRewrite(body, [new RequestRule(RuleAction.Strip, "think", null)], expected);
    }

    [Theory]
    [InlineData("""{"model":"m","options":{"temperature":1}}""", """{"model":"m","options":{}}""")]
    [InlineData("""{"model":"m","options":{"temperature":1,"seed":2}}""", """{"model":"m","options":{"seed":2}}""")]
    [InlineData("""{"model":"m","options":{"seed":2,"temperature":1}}""", """{"model":"m","options":{"seed":2}}""")]
    [InlineData("""{"model":"m","options":{"seed":2,"temperature":1,"top_k":3}}""", """{"model":"m","options":{"seed":2,"top_k":3}}""")]
    [InlineData("""{"model":"m","options":{"temperature":1,"temperature":2,"seed":2}}""", """{"model":"m","options":{"seed":2}}""")]
    [InlineData("""{"model":"m","options":{"temperature":1},"options":{"seed":1,"temperature":null}}""", """{"model":"m","options":{},"options":{"seed":1}}""")] // every object that merges
    [InlineData("""{"model":"m","options":{"temperature":1},"options":null}""", """{"model":"m","options":{},"options":null}""")]
    [InlineData("""{"model":"m","options":{"TEMPERATURE":1,"nested":{"temperature":1}}}""", """{"model":"m","options":{"TEMPERATURE":1,"nested":{"temperature":1}}}""")] // map keys are exact
    [InlineData("""{"model":"m","temperature":1}""", """{"model":"m","temperature":1}""")] // not an option at the top level
    [InlineData("{\"model\":\"m\",\"options\": {\n  \"temperature\": 1\n}\n}", "{\"model\":\"m\",\"options\": {\n  \n}\n}")]
    [InlineData("""{"model":"m","options":"fast"}""", """{"model":"m","options":"fast"}""")]
    public void Strip_Option_RemovesTheKeyFromEveryOptionsObject(string body, string expected)
    {
        AssertRewrite(body, [new RequestRule(RuleAction.Strip, "options.temperature", null)], expected);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", """{"model":"m","think":true,"options":{"temperature":0.2}}""")]
    [InlineData("""{"model":"m","think":false,"options":{"temperature":1}}""", """{"model":"m","think":false,"options":{"temperature":1}}""")]
    [InlineData("""{"model":"m","think":null,"options":{"temperature":null}}""", """{"model":"m","think":null,"options":{"temperature":null,"temperature":0.2},"think":true}""")]
    [InlineData("""{"model":"m","options":{"temperature":1},"options":{}}""", """{"model":"m","options":{"temperature":1},"options":{},"think":true}""")] // merged
    [InlineData("""{"model":"m","options":{"temperature":1},"options":null}""", """{"model":"m","options":{"temperature":1},"options":null,"think":true,"options":{"temperature":0.2}}""")]
    public void Default_AnyField_SetWhenGoReadsNoValue(string body, string expected)
    {
        AssertRewrite(body, [new RequestRule(RuleAction.Default, "think", "true"), new RequestRule(RuleAction.Default, "options.temperature", "0.2")], expected);
    }

    [Theory]
    [InlineData("""{"model":"m","options":{"temperature":1},"options":{"seed":1}}""", """{"model":"m","options":{"temperature":0.2},"options":{"seed":1},"format":{"type":"object"}}""")] // where Go's map took it from
    [InlineData("""{"model":"m","options":{"temperature":1,"temperature":2}}""", """{"model":"m","options":{"temperature":1,"temperature":0.2},"format":{"type":"object"}}""")]
    [InlineData("""{"model":"m","format":"json","FORMAT":{"type":"string"}}""", """{"model":"m","format":"json","FORMAT":{"type":"object"},"options":{"temperature":0.2}}""")]
    [InlineData("""{"model":"m"}""", """{"model":"m","format":{"type":"object"},"options":{"temperature":0.2}}""")]
    public void Force_AnyField_ReplacesTheValueGoReads(string body, string expected)
    {
        AssertRewrite(body, [new RequestRule(RuleAction.Force, "format", """{"type":"object"}"""), new RequestRule(RuleAction.Force, "options.temperature", "0.2")], expected);
    }

    [Theory]
    [InlineData("""{"think":true}""", """{"keep_alive":-1,"options":{"num_ctx":8192}}""")] // every member gone, then one added: no comma
    [InlineData("""{"think":true,"model":"m"}""", """{"model":"m","keep_alive":-1,"options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"seed":1}}""", """{"model":"m","options":{"num_ctx":8192},"keep_alive":-1}""")]
    [InlineData("""{"model":"m","options":{"seed":1,"top_k":1}}""", """{"model":"m","options":{"top_k":1,"num_ctx":8192},"keep_alive":-1}""")]
    [InlineData("""{"model":"m","options":{"seed":1},"options":{"seed":2}}""", """{"model":"m","options":{},"options":{"num_ctx":8192},"keep_alive":-1}""")]
    public void StripAndAdd_InOneObject_LeaveValidJson(string body, string expected)
    {
        AssertRewrite(
            body,
            [new RequestRule(RuleAction.Strip, "think", null), new RequestRule(RuleAction.Default, "keep_alive", "-1"), new RequestRule(RuleAction.Strip, "options.seed", null), new RequestRule(RuleAction.Default, "options.num_ctx", "8192")],
            expected);
    }

    [Fact]
    public void Strip_WithTheAliasSplice_NeverOverlapsIt()
    {
        var bytes = """{"think":true,"model":"alias","raw":true}"""u8.ToArray();
        var model = Encoding.UTF8.GetString(bytes).IndexOf("\"alias\"", StringComparison.Ordinal);
        var aliased = new ForwardBody(bytes, model, "\"alias\"".Length, "\"llama3.2\""u8.ToArray());
        var rules = new RequestDefaults([new RequestRule(RuleAction.Strip, "think", null), new RequestRule(RuleAction.Strip, "raw", null), new RequestRule(RuleAction.Force, "keep_alive", "-1")]);

        var result = RequestDefaultsSplice.Apply(aliased, rules);

        Flatten(result).Should().Be("""{"model":"llama3.2","keep_alive":-1}""");
        result.SpliceCount.Should().BeGreaterThan(ForwardBody.MaxSplices, "past the inline splices the body still forwards right");
    }

    [Fact]
    public void Strip_FieldRepeatedMoreThanTheLayoutKeeps_IsRefused()
    {
        var body = "{\"model\":\"m\"" + string.Concat(Enumerable.Repeat(",\"think\":true", BodyLayout.MaxMembers + 1)) + "}";
        var rules = new RequestDefaults([new RequestRule(RuleAction.Strip, "think", null)]);
        using var scan = new JsonBodyScan(acceptName: false, JsonBodyScan.DefaultWindowSize, rules.Watched);
        scan.Feed(Encoding.UTF8.GetBytes(body));
        scan.Complete(new char[ModelPeek.MaxNameChars]);

        RequestDefaultsSplice.TryApply(new ForwardBody(Encoding.UTF8.GetBytes(body)), scan.Layout, rules, out _).Should().BeFalse();
        var atTheLimit = "{\"model\":\"m\"" + string.Concat(Enumerable.Repeat(",\"think\":true", BodyLayout.MaxMembers)) + "}";
        AssertRewrite(atTheLimit, rules.Rules, """{"model":"m"}""");
    }

    [Fact]
    public void Rules_OfAnotherModel_AreWatchedButLeaveThisModelsBodyAlone()
    {
        // The scan watches what every route names; a route's plan uses its own rules only.
        var mine = new RequestDefaults([new RequestRule(RuleAction.Default, "keep_alive", "-1")]);
        var other = new RequestDefaults([new RequestRule(RuleAction.Strip, "think", null), new RequestRule(RuleAction.Force, "options.seed", "1")]);
        var body = """{"think":true,"model":"m","options":{"seed":7}}"""u8.ToArray();
        using var scan = new JsonBodyScan(acceptName: false, JsonBodyScan.DefaultWindowSize, WatchedFields.Of([mine, other]));
        scan.Feed(body);
        scan.Complete(new char[ModelPeek.MaxNameChars]);

        Flatten(RequestDefaultsSplice.Apply(new ForwardBody(body), scan.Layout, mine)).Should().Be("""{"think":true,"model":"m","options":{"seed":7},"keep_alive":-1}""");
        Flatten(RequestDefaultsSplice.Apply(new ForwardBody(body), scan.Layout, other)).Should().Be("""{"model":"m","options":{"seed":1}}""");
    }

    [Theory]
    [InlineData("keep_alive", false)]
    [InlineData("options.num_gpu", true)]
    [InlineData("think", false)]
    [InlineData("options.x1_y", true)]
    public void Field_ValidNames_Parse(string field, bool isOption)
    {
        RequestRule.TryParseField(field, out var option, out _, out _).Should().BeTrue();
        option.Should().Be(isOption);
    }

    [Theory]
    [InlineData("")]
    [InlineData("options.")]
    [InlineData("model")]
    [InlineData("options")]
    [InlineData("Keep_Alive")]
    [InlineData("keep-alive")]
    [InlineData("options.num ctx")]
    [InlineData("options.options.x")]
    [InlineData("_x")]
    [InlineData("abcdefghijklmnopqrstuvwxy")]
    public void Field_InvalidNames_AreRefused(string field)
    {
        RequestRule.TryParseField(field, out _, out _, out var problem).Should().BeFalse();
        problem.Should().NotBeEmpty();
    }

    [Theory]
    [InlineData("0.2", true)]
    [InlineData(" {\"type\" : \"object\"} ", true)]
    [InlineData("\"5m\"", true)]
    [InlineData("null", true)]
    [InlineData("5m", false)]
    [InlineData("1 2", false)]
    [InlineData("{", false)]
    [InlineData("", false)]
    [InlineData("[1,]", false)]
    public void Value_MustBeOneJsonValue(string json, bool valid)
    {
        RequestRule.IsOneJsonValue(json).Should().Be(valid);
    }

    private static void AssertRewrite(string body, IReadOnlyList<RequestRule> rules, string expected)
    {
        var defaults = new RequestDefaults(rules);
        var bytes = Encoding.UTF8.GetBytes(body);

        var result = RequestDefaultsSplice.Apply(new ForwardBody(bytes), defaults);

        Flatten(result).Should().Be(expected);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(expected));
        using var parsed = JsonDocument.ParseValue(ref reader);
        parsed.RootElement.ValueKind.Should().Be(JsonValueKind.Object);
        RequestDefaultsSpliceFuzzTests.Disagreement(bytes, defaults, defaults.Rules.Select(static r => r.Field)).Should().BeNull();
    }

    private static string Flatten(ForwardBody body)
    {
        var bytes = new byte[body.Length];
        body.CopyTo(bytes);
        return Encoding.UTF8.GetString(bytes);
    }
}
