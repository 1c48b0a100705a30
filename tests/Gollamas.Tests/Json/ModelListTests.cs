using System.Text.Json;
using Gollamas.Json;

namespace Gollamas.Tests.Json;

/// <summary><see cref="ModelList"/> on its own: a server's answer in, the named entries and their times out.</summary>
public sealed class ModelListTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("[]")]
    [InlineData("""{"error":"boom"}""")]
    [InlineData("""{"models":null}""")]
    [InlineData("""{"models":{"name":"llama3.2"}}""")]
    [InlineData("""{"models":[]}""")]
    public void Enumerate_AnswerThatIsNoList_NoEntries(string? json)
    {
        using var document = json is null ? null : JsonDocument.Parse(json);

        Names(document).Should().BeEmpty();
    }

    [Fact]
    public void Enumerate_MixedEntries_ObjectsWithANameInOrderModelBeforeName()
    {
        using var document = JsonDocument.Parse("""
            {"models":[1,{"name":"a"},null,{"model":"","name":"b"},{"model":"c","name":"x"},{"other":1},{"name":2},{"model":3,"name":""},"d"]}
            """);

        Names(document).Should().Equal("a", "b", "c", "");
    }

    [Fact]
    public void Enumerate_Entry_IsTheElementAsWritten()
    {
        using var document = JsonDocument.Parse("""{"models":[{"name":"a","size":12}]}""");

        var entries = new List<string>();
        foreach (var (entry, _) in new ModelList(document))
        {
            entries.Add(entry.GetRawText());
        }

        entries.Should().Equal("""{"name":"a","size":12}""");
    }

    [Theory]
    [InlineData("""{"modified_at":"2024-06-04T14:38:31.83753-07:00"}""", true, "2024-06-04T14:38:31.8375300-07:00")]
    [InlineData("""{"modified_at":"2025-01-02T03:04:05Z"}""", true, "2025-01-02T03:04:05.0000000+00:00")]
    [InlineData("""{"modified_at":"yesterday"}""", false, null)]
    [InlineData("""{"modified_at":1717537111}""", false, null)]
    [InlineData("""{"name":"a"}""", false, null)]
    public void TryReadModifiedAt_Field_ParsedAsGoWritesIt(string json, bool read, string? expected)
    {
        using var document = JsonDocument.Parse(json);

        var ok = ModelList.TryReadModifiedAt(document.RootElement, out var time);

        ok.Should().Be(read);
        if (read)
        {
            time.ToString("o", System.Globalization.CultureInfo.InvariantCulture).Should().Be(expected);
        }
    }

    private static List<string> Names(JsonDocument? document)
    {
        var names = new List<string>();
        foreach (var (_, name) in new ModelList(document))
        {
            names.Add(name);
        }

        return names;
    }
}
