using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Gollamas.Bench.Load;

/// <summary>
/// How many NDJSON lines a fake chat stream has and how long the backend waits between them,
/// read from the top-level <c>chunks</c> and <c>delay_ms</c> of the request body (Ollama ignores
/// unknown fields, so the proxy passes them through like any other).
/// </summary>
internal readonly record struct StreamShape(int Chunks, int DelayMs)
{
    /// <summary>501 lines as fast as they can go: the long-stream scenario.</summary>
    public static StreamShape Default { get; } = new(501, 0);

    /// <summary>A chat request body for <paramref name="model"/> asking for this shape.</summary>
    public string ToRequestBody(string model) => string.Create(
        CultureInfo.InvariantCulture,
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"chunks":{{Chunks}},"delay_ms":{{DelayMs}}}""");

    public static StreamShape Parse(ReadOnlySequence<byte> body)
    {
        var chunks = Default.Chunks;
        var delayMs = Default.DelayMs;
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isChunks = reader.ValueTextEquals("chunks"u8);
                var isDelay = reader.ValueTextEquals("delay_ms"u8);
                reader.Read();
                if (isChunks && reader.TokenType == JsonTokenType.Number)
                {
                    chunks = Math.Max(1, reader.GetInt32());
                }
                else if (isDelay && reader.TokenType == JsonTokenType.Number)
                {
                    delayMs = Math.Max(0, reader.GetInt32());
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // A bench client sent something odd: serve the default stream rather than fail.
        }

        return new StreamShape(chunks, delayMs);
    }
}
