using System.Runtime.InteropServices;
using System.Text.Json;
using Gollamas.Json;
using Gollamas.Routing;

namespace Gollamas.Endpoints;

/// <summary>
/// One entry of a merged model list: the upstream element as the server wrote it, the route it
/// belongs to, and, for a synthetic alias entry, the alias name that replaces its name and model.
/// </summary>
internal readonly record struct ListedModel(JsonElement Element, ModelRoute? Route, string? Alias, DateTimeOffset ModifiedAt)
{
    /// <summary>The id clients see: the alias, else the entry's <c>model</c>, else its <c>name</c>.</summary>
    public string Id => Alias ?? ModelList.ReadName(Element) ?? string.Empty;

    /// <summary>
    /// Writes the entry: upstream elements pass through whole (fields this proxy does not know
    /// included); alias entries are the same object with <c>name</c> and <c>model</c> replaced.
    /// </summary>
    /// <remarks>
    /// Values are copied as the server wrote them (<see cref="JsonMarshal.GetRawUtf8Value"/>), not
    /// re-encoded: even the relaxed encoder <c>\u</c>-escapes characters outside the BMP (emoji),
    /// which Go's encoder leaves raw, and re-encoding would also rewrite the server's escapes.
    /// </remarks>
    public void WriteTo(Utf8JsonWriter writer)
    {
        if (Alias is null)
        {
            writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(Element), skipInputValidation: true);
            return;
        }

        writer.WriteStartObject();
        foreach (var property in Element.EnumerateObject())
        {
            if (property.NameEquals("name"u8) || property.NameEquals("model"u8))
            {
                writer.WriteString(property.Name, Alias);
            }
            else
            {
                writer.WritePropertyName(property.Name);
                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(property.Value), skipInputValidation: true);
            }
        }

        writer.WriteEndObject();
    }
}
