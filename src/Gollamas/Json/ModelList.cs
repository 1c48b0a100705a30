using System.Globalization;
using System.Text.Json;

namespace Gollamas.Json;

/// <summary>
/// One of Ollama's model lists, <c>{"models":[…]}</c> (<c>/api/tags</c>, <c>/api/ps</c>), read
/// leniently: enumerating it gives each entry that is an object with a name, in order, and an
/// answer that is not such a list gives none. With the two fields of a model the proxy reads.
/// </summary>
/// <param name="document">A server's answer; null reads as an empty list.</param>
internal readonly struct ModelList(JsonDocument? document)
{
    public Enumerator GetEnumerator() => new(document);

    /// <summary>
    /// A model's name: its <c>model</c> when that is a non-empty string, else its <c>name</c>
    /// (Ollama writes both, equal; older servers only <c>name</c>); null when neither is a string.
    /// </summary>
    public static string? ReadName(JsonElement model)
    {
        if (model.TryGetProperty(JsonNames.Model.EncodedUtf8Bytes, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } name)
        {
            return name;
        }

        return model.TryGetProperty(JsonNames.Name.EncodedUtf8Bytes, out value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    /// <summary>A model's <c>modified_at</c> (RFC 3339, as Go writes a time), when it has a readable one.</summary>
    public static bool TryReadModifiedAt(JsonElement model, out DateTimeOffset modifiedAt)
    {
        if (model.TryGetProperty(JsonNames.ModifiedAt.EncodedUtf8Bytes, out var value)
            && value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out modifiedAt))
        {
            return true;
        }

        modifiedAt = default;
        return false;
    }

    /// <summary>The entries that are objects with a name, each with that name.</summary>
    public struct Enumerator
    {
        private readonly bool _isList;
        private JsonElement.ArrayEnumerator _entries;

        internal Enumerator(JsonDocument? document)
        {
            if (document is not null
                && document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(JsonNames.Models.EncodedUtf8Bytes, out var models)
                && models.ValueKind == JsonValueKind.Array)
            {
                _isList = true;
                _entries = models.EnumerateArray();
            }
        }

        public (JsonElement Entry, string Name) Current { get; private set; }

        public bool MoveNext()
        {
            while (_isList && _entries.MoveNext())
            {
                var entry = _entries.Current;
                if (entry.ValueKind == JsonValueKind.Object && ReadName(entry) is { } name)
                {
                    Current = (entry, name);
                    return true;
                }
            }

            return false;
        }
    }
}
