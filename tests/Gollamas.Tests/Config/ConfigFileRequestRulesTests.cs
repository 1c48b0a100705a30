using Gollamas.Bodies;
using Gollamas.Config;

namespace Gollamas.Tests.Config;

/// <summary>
/// Request rules written in the configuration file: <c>defaults</c>, <c>force</c> and <c>strip</c>
/// under a model or at the top for every model, YAML values turned into the JSON Ollama reads.
/// </summary>
public sealed class ConfigFileRequestRulesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gollamas-rules-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void ModelAndGlobalRules_BecomeTheModelsRules_WithYamlValuesAsJson()
    {
        var options = Read("""
            connections: {a: "http://gpu1:11434"}
            models:
              llama3.2:
                connections: [a]
                defaults: {options: {temperature: 0.2, stop: ["\n", "user:"]}, think: false, format: {type: object}}
                force: {keep_alive: -1, system: "0.5"}
                strip: [options.seed, raw]
              phi4: [a]
            defaults: {options: {top_k: 20}}
            """);

        Rules(options.Lifecycle.For("llama3.2")).Should().BeEquivalentTo(
        [
            "Default options.temperature 0.2",
            "Default options.stop [\"\\n\",\"user:\"]",
            "Default think false",
            "Default format {\"type\":\"object\"}",
            "Force keep_alive -1",
            "Force system \"0.5\"",
            "Strip options.seed",
            "Strip raw",
            "Default options.top_k 20",
        ]);
        Rules(options.Lifecycle.For("phi4")).Should().Equal("Default options.top_k 20");
    }

    [Fact]
    public void ABadRule_IsReportedAtItsLine()
    {
        var errors = Errors("""
            connections: {a: "http://gpu1:11434"}
            models:
              llama3.2:
                connections: [a]
                defaults: {options: {temperature: 0.2}, model: x}
                strip: [options.seed, options.seed]
            """);

        errors.Should().NotBeEmpty();
        errors.Should().Contain(static e => e.Contains("gollamas.yaml:5: models.llama3.2.defaults.model", StringComparison.Ordinal));
        errors.Should().Contain(static e => e.Contains("gollamas.yaml:6", StringComparison.Ordinal));
    }

    private static string[] Rules(RequestDefaults defaults) =>
        [.. defaults.Rules.Select(static r => r.Action == RuleAction.Strip ? $"Strip {r.Field}" : $"{r.Action} {r.Field} {r.Json}")];

    private GollamasOptions Read(string yaml)
    {
        var reading = ConfigSources.Read(Input(yaml));
        reading.Errors.Select(static e => e.ToString()).Should().BeEmpty();
        return reading.Options!;
    }

    private List<string> Errors(string yaml)
    {
        var reading = ConfigSources.Read(Input(yaml));
        reading.Options.Should().BeNull();
        return [.. reading.Errors.Select(static e => e.ToString())];
    }

    private ConfigInput Input(string yaml)
    {
        var file = Path.Combine(_directory, "gollamas.yaml");
        File.WriteAllText(file, yaml);
        return new ConfigInput().With(Settings.Config, new ConfigEntry(file, "--config"));
    }
}
