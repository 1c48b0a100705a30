using System.Text.Json;
using Gollamas.Config;
using Gollamas.Fleet;

namespace Gollamas.Tests.Fleet;

public sealed class ModelInventoryTests
{
    [Theory]
    [InlineData("llama3.2")]
    [InlineData("llama3.2:latest")]
    [InlineData("LLAMA3.2")]
    [InlineData("library/llama3.2")]
    [InlineData("registry.ollama.ai/library/llama3.2:latest")]
    public void Has_AnySpellingOllamaReadsAsTheListedName(string configured)
    {
        var inventory = Inventory("llama3.2:latest");

        ModelName.TryParse(configured, out var name).Should().BeTrue();
        inventory.Has(name.Canonical).Should().BeTrue();
    }

    [Theory]
    [InlineData("llama3.2:1b")]
    [InlineData("llama3.1")]
    [InlineData("someone/llama3.2")]
    public void Has_AnotherTagNamespaceOrName_IsAnotherModel(string configured)
    {
        var inventory = Inventory("llama3.2:latest");

        ModelName.TryParse(configured, out var name).Should().BeTrue();
        inventory.Has(name.Canonical).Should().BeFalse();
    }

    [Fact]
    public void Closest_SameNameFirst_ThenByEditDistance_EqualsInTheServersOrder()
    {
        var inventory = Inventory("mistral:7b", "qwen2.5:7b", "qwen3:30b", "qwq:latest", "qwen3:8b");
        var wanted = Name("qwen3");

        inventory.Closest(wanted, 4).Should().Equal("qwen3:30b", "qwen3:8b", "qwq:latest", "qwen2.5:7b");
        inventory.DescribeClosest(wanted, 2).Should().Be("qwen3:30b, qwen3:8b and 3 more");
    }

    [Fact]
    public void Read_AnswerThatIsNoList_HasNoModels()
    {
        using var document = JsonDocument.Parse("""{"error":"nope"}""");
        var inventory = ModelInventory.Read(document);
        var wanted = Name("qwen3");

        inventory.Count.Should().Be(0);
        inventory.DescribeClosest(wanted, 3).Should().Be("no models");
    }

    private static ModelName Name(string text) => ModelName.TryParse(text, out var name) ? name : throw new ArgumentException(text, nameof(text));

    private static ModelInventory Inventory(params string[] names)
    {
        var entries = string.Join(',', names.Select(static n => $"{{\"name\":\"{n}\",\"model\":\"{n}\"}}"));
        using var document = JsonDocument.Parse($"{{\"models\":[{entries}]}}");
        return ModelInventory.Read(document);
    }
}
