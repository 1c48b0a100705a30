using Gollamas.Config;

namespace Gollamas.Tests.Config;

public class ModelNameTests
{
    // ollama-api.md §4d, plus the ":local" and whitespace handling of current servers.
    [Theory]
    [InlineData("llama3.2", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest")]
    [InlineData("llama3.2:latest", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest")]
    [InlineData("library/llama3.2", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest")]
    [InlineData("registry.ollama.ai/library/llama3.2:3b", "registry.ollama.ai/library/llama3.2:3b", "llama3.2:3b")]
    [InlineData("Llama3.2:Latest", "registry.ollama.ai/library/Llama3.2:Latest", "Llama3.2:Latest")]
    [InlineData("REGISTRY.OLLAMA.AI/Library/llama3.2", "REGISTRY.OLLAMA.AI/Library/llama3.2:latest", "llama3.2:latest")]
    [InlineData("deepseek-r1:14b", "registry.ollama.ai/library/deepseek-r1:14b", "deepseek-r1:14b")]
    [InlineData("qwen2.5-coder:14b-instruct-q4_K_M", "registry.ollama.ai/library/qwen2.5-coder:14b-instruct-q4_K_M", "qwen2.5-coder:14b-instruct-q4_K_M")]
    [InlineData("mattw/pygmalion", "registry.ollama.ai/mattw/pygmalion:latest", "mattw/pygmalion:latest")]
    [InlineData("hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M", "hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M", "hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M")]
    [InlineData("localhost:5000/team/model", "localhost:5000/team/model:latest", "localhost:5000/team/model:latest")]
    [InlineData("https://my.reg:443/ns/m:v1", "my.reg:443/ns/m:v1", "my.reg:443/ns/m:v1")]
    [InlineData("host/library/m:t", "host/library/m:t", "host/library/m:t")]
    [InlineData("gpt-3.5-turbo", "registry.ollama.ai/library/gpt-3.5-turbo:latest", "gpt-3.5-turbo:latest")]
    [InlineData("gpt-oss:20b-cloud", "registry.ollama.ai/library/gpt-oss:20b-cloud", "gpt-oss:20b-cloud")]
    [InlineData("  llama3.2\t", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest")]
    [InlineData("llama3.2:local", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest")]
    [InlineData("llama3.2:3b:LOCAL", "registry.ollama.ai/library/llama3.2:3b", "llama3.2:3b")]
    [InlineData("_x", "registry.ollama.ai/library/_x:latest", "_x:latest")]
    public void TryParse_ValidName_ReturnsCanonicalAndDisplayShortest(string text, string canonical, string displayShortest)
    {
        var parsed = ModelName.TryParse(text, out var name);

        parsed.Should().BeTrue();
        name.Canonical.Should().Be(canonical);
        name.DisplayShortest.Should().Be(displayShortest);
        name.ToString().Should().Be(canonical);
    }

    [Fact]
    public void TryParse_FullName_SplitsParts()
    {
        var parsed = ModelName.TryParse("hf.co/bartowski/Qwen2.5-7B:Q4_K_M", out var name);

        parsed.Should().BeTrue();
        name.Should().Be(new ModelName("hf.co", "bartowski", "Qwen2.5-7B", "Q4_K_M"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("model:")]
    [InlineData(":tag")]
    [InlineData("/m")]
    [InlineData("h//m")]
    [InlineData("ns/")]
    [InlineData("a/b/c/d")]
    [InlineData("my.ns/model")]
    [InlineData("-bad")]
    [InlineData(".bad")]
    [InlineData("x@sha256:abc")]
    [InlineData("host/name:space/model:tag")]
    [InlineData("gpt-oss:20b:cloud")]
    [InlineData("llama 3.2")]
    [InlineData("llama3.2:la test")]
    [InlineData("llamä")]
    [InlineData("m:t/x")]
    [InlineData(":local")]
    [InlineData("x:cloud:local")]
    [InlineData("model:-tag")]
    [InlineData("-host/ns/m")]
    [InlineData("ns-/m:")]
    public void TryParse_InvalidName_ReturnsFalse(string text)
    {
        var parsed = ModelName.TryParse(text, out var name);

        parsed.Should().BeFalse();
        name.Should().Be(default(ModelName));
    }

    [Theory]
    [InlineData(80, true)]
    [InlineData(81, false)]
    public void TryParse_ModelLength_LimitedTo80(int length, bool valid)
    {
        var parsed = ModelName.TryParse(new string('m', length), out _);

        parsed.Should().Be(valid);
    }

    [Theory]
    [InlineData(80, true)]
    [InlineData(81, false)]
    public void TryParse_NamespaceAndTagLength_LimitedTo80(int length, bool valid)
    {
        var part = new string('p', length);

        ModelName.TryParse($"{part}/m", out _).Should().Be(valid);
        ModelName.TryParse($"m:{part}", out _).Should().Be(valid);
    }

    [Theory]
    [InlineData(350, true)]
    [InlineData(351, false)]
    public void TryParse_HostLength_LimitedTo350(int length, bool valid)
    {
        var parsed = ModelName.TryParse($"{new string('h', length)}/ns/m", out _);

        parsed.Should().Be(valid);
    }

    [Theory]
    [InlineData("llama3.2", new[]
    {
        "llama3.2", "llama3.2:latest",
        "library/llama3.2", "library/llama3.2:latest",
        "registry.ollama.ai/library/llama3.2", "registry.ollama.ai/library/llama3.2:latest",
    })]
    [InlineData("llama3.2:3b", new[] { "llama3.2:3b", "library/llama3.2:3b", "registry.ollama.ai/library/llama3.2:3b" })]
    [InlineData("mattw/pygmalion", new[]
    {
        "mattw/pygmalion", "mattw/pygmalion:latest",
        "registry.ollama.ai/mattw/pygmalion", "registry.ollama.ai/mattw/pygmalion:latest",
    })]
    [InlineData("hf.co/u/r:Q4", new[] { "hf.co/u/r:Q4" })]
    [InlineData("hf.co/u/r", new[] { "hf.co/u/r", "hf.co/u/r:latest" })]
    [InlineData("host/library/m", new[] { "host/library/m", "host/library/m:latest" })]
    [InlineData("REGISTRY.OLLAMA.AI/Library/M:Latest", new[]
    {
        "M", "M:Latest",
        "Library/M", "Library/M:Latest",
        "REGISTRY.OLLAMA.AI/Library/M", "REGISTRY.OLLAMA.AI/Library/M:Latest",
    })]
    public void Spellings_ParsedName_ListsEveryEquivalentSpellingInOrder(string text, string[] expected)
    {
        ModelName.TryParse(text, out var name).Should().BeTrue();

        var spellings = name.Spellings();

        spellings.Should().Equal(expected);
    }

    [Fact]
    public void Spellings_EverySpelling_ParsesBackToSameCanonical()
    {
        ModelName.TryParse("llama3.2", out var name).Should().BeTrue();

        var canonicals = name.Spellings().Select(s => ModelName.TryParse(s, out var n) ? n.Canonical : "invalid");

        canonicals.Should().AllBe("registry.ollama.ai/library/llama3.2:latest");
    }
}
