using System.Text;
using System.Text.Json;

namespace Gollamas.Tests.Fakes;

/// <summary>One request exactly as a fake server received it: method, target, headers and the whole body.</summary>
public sealed class RecordedRequest
{
    public RecordedRequest(string method, string path, string queryString, IReadOnlyDictionary<string, string> headers, byte[] body)
    {
        Method = method;
        Path = path;
        QueryString = queryString;
        Headers = headers;
        Body = body;
    }

    public string Method { get; }

    /// <summary>The path as received (percent-decoded by the server), e.g. <c>/api/chat</c>.</summary>
    public string Path { get; }

    /// <summary>The query including its leading <c>?</c>, or empty.</summary>
    public string QueryString { get; }

    /// <summary>Header values by case-insensitive name; repeated values are joined with <c>", "</c>.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

#pragma warning disable CA1819 // Tests compare the exact bytes that crossed the wire; a copy per access buys nothing here.
    public byte[] Body { get; }
#pragma warning restore CA1819

    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>Parses the body; the caller disposes the document.</summary>
    public JsonDocument BodyJson() => JsonDocument.Parse(Body);

    public override string ToString() => $"{Method} {Path}{QueryString} ({Body.Length} bytes)";
}
