using Gollamas.Bodies;
using Gollamas.Config;

namespace Gollamas.Tests.Config;

/// <summary>
/// Request rules as a configuration source gives them (<see cref="ConfigInput.RequestRules"/>), validated with the
/// keep-alive and num-ctx flags, which are rules too: per model over global by field, one rule per field and scope.
/// </summary>
public sealed class RequestRuleParsingTests
{
    private const string File = "gollamas.yaml";

    [Fact]
    public void Rules_PerModelReplaceGlobalByField_InTheOrderFieldsWereFirstNamed()
    {
        var (options, errors) = Parse(
            ["--keep-alive", "10m", "--num-ctx", "llama3.2=8192"],
            Rule(null, RuleAction.Default, "options.temperature", "0.2"),
            Rule("gpt-4o", RuleAction.Force, "keep_alive", "-1"),
            Rule("GPT-4o:latest", RuleAction.Strip, "think", null),
            Rule("qwen3:8b", RuleAction.Force, "options.temperature", " 0.7 "));

        errors.Should().BeEmpty();
        var llama = options!.Lifecycle.For("llama3.2");
        llama.Rules.Select(static r => r.ToString()).Should().Equal("Force keep_alive -1", "Default options.num_ctx 8192", "Default options.temperature 0.2", "strip think");
        var qwen = options.Lifecycle.For("qwen3:8b");
        qwen.Rules.Select(static r => r.ToString()).Should().Equal("Default keep_alive 10m", "Force options.temperature 0.7");
        (qwen.KeepAliveText, qwen.ForceKeepAlive, qwen.NumCtx).Should().Be(("10m", false, null));
        options.Lifecycle.Global.Rules.Select(static r => r.Field).Should().Equal("keep_alive", "options.temperature");
    }

    [Fact]
    public void Rules_Only_AreGlobalOrPerModel()
    {
        var (options, errors) = Parse([], Rule("llama3.2", RuleAction.Force, "options.num_ctx", "4096"));

        errors.Should().BeEmpty();
        options!.Lifecycle.Global.Should().BeSameAs(RequestDefaults.None);
        options.Lifecycle.For("llama3.2").NumCtx.Should().Be(4096);
        options.Lifecycle.For("llama3.2").ForceNumCtx.Should().BeTrue();
        options.Lifecycle.For("qwen3:8b").IsEmpty.Should().BeTrue();
    }

    [Theory]
    [InlineData(null, "Default", "Think", "true", "gollamas.yaml rule 1 \"Think\": invalid field name (expected a name such as keep_alive or options.temperature: a lower-case letter, then lower-case letters, digits or '_', at most 24)")]
    [InlineData(null, "Force", "model", "\"x\"", "gollamas.yaml rule 1 \"model\": the model is what requests are routed by: a rule cannot set it")]
    [InlineData(null, "Force", "options", "{}", "gollamas.yaml rule 1 \"options\": give the entries of options one by one (options.NAME)")]
    [InlineData(null, "Default", "think", "yes", "gollamas.yaml rule 1 \"yes\": the value of think is not one JSON value (e.g. 0.2, true, \"5m\", {\"type\":\"object\"})")]
    [InlineData(null, "Default", "think", "1 2", "gollamas.yaml rule 1 \"1 2\": the value of think is not one JSON value (e.g. 0.2, true, \"5m\", {\"type\":\"object\"})")]
    [InlineData(null, "Default", "think", null, "gollamas.yaml rule 1 \"think\": the rule has no value (expected a JSON value)")]
    [InlineData(null, "Strip", "think", "true", "gollamas.yaml rule 1 \"think\": a strip takes no value")]
    [InlineData("mistral", "Strip", "think", null, "gollamas.yaml rule 1 \"mistral\": 'mistral' is not a configured model or alias")]
    public void Rules_Invalid_AreConfigurationErrors(string? model, string action, string field, string? value, string message)
    {
        var (_, errors) = Parse([], Rule(model, Enum.Parse<RuleAction>(action), field, value));

        errors.Select(static e => e.ToString()).Should().Equal(message);
    }

    [Fact]
    public void Rules_TwoForOneFieldInOneScope_AreConfigurationErrors()
    {
        var (_, errors) = Parse(
            ["--force-keep-alive", "gpt-4o=-1", "--num-ctx", "8192"],
            Rule("llama3.2", RuleAction.Strip, "keep_alive", null),
            Rule(null, RuleAction.Force, "options.num_ctx", "4096"),
            Rule("qwen3:8b", RuleAction.Default, "think", "true"),
            Rule("qwen3:8b", RuleAction.Force, "think", "false"),
            Rule("llama3.2", RuleAction.Default, "think", "true"));

        errors.Select(static e => e.ToString()).Should().Equal(
            "gollamas.yaml rule 1 \"keep_alive\": model 'llama3.2' already has a rule for keep_alive (--force-keep-alive); give one of them",
            "gollamas.yaml rule 2 \"options.num_ctx\": every model already has a rule for options.num_ctx (--num-ctx); give one of them",
            "gollamas.yaml rule 4 \"think\": model 'qwen3:8b' already has a rule for think (gollamas.yaml rule 3); give one of them");
    }

    private static RequestRuleEntry Rule(string? model, RuleAction action, string field, string? value) =>
        new(model, action, field, value, File);

    private static (GollamasOptions? Options, IReadOnlyList<ConfigError> Errors) Parse(string[] flags, params RequestRuleEntry[] rules)
    {
        // Sources name rules by their place: number them from 1 in each test.
        var numbered = rules.Select(static (r, i) => r with { Source = $"{File} rule {i + 1}" }).ToArray();
        var input = new ConfigInput(
            new ConfigEntry("localhost:11434", "--listen"),
            null,
            [new ConfigEntry("llama3.2=http://gpu1:11434", "--proxies"), new ConfigEntry("qwen3:8b=http://gpu2:11434", "--proxies")],
            [],
            [new ConfigEntry("gpt-4o=llama3.2", "--aliases")],
            null);
        input = Infrastructure.ProxyUnderTest.Flags(flags)(input) with { RequestRules = numbered };
        var ok = ConfigParser.TryParse(input, out var options, out var errors);
        ok.Should().Be(errors.Count == 0);
        return (options, errors);
    }
}
