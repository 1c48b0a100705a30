using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gollamas.Json;

/// <summary>
/// Writer settings shared by everything the proxy serialises. Go's encoder leaves non-ASCII
/// characters raw, so the relaxed encoder keeps names and messages byte-identical to Ollama's
/// instead of <c>\u</c>-escaping them.
/// </summary>
internal static class JsonWriting
{
    public static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public const string JsonContentType = "application/json; charset=utf-8";
}
