using System.Text;

namespace Gollamas.Tests.Fakes;

/// <summary>One request as <see cref="RawLoopbackServer"/> read it off the socket.</summary>
public sealed class RawRequest
{
    public RawRequest(string head, string method, string target, IReadOnlyDictionary<string, string> headers, byte[] body)
    {
        Head = head;
        Method = method;
        Target = target;
        Headers = headers;
        Body = body;
    }

    /// <summary>The request line and header lines, up to but excluding the blank line.</summary>
    public string Head { get; }

    public string Method { get; }

    /// <summary>The request target exactly as sent, e.g. <c>/api/chat?x=1</c>.</summary>
    public string Target { get; }

    /// <summary>Header values by case-insensitive name; repeated values are joined with <c>", "</c>.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

#pragma warning disable CA1819 // Tests compare the exact bytes that crossed the wire.
    public byte[] Body { get; }
#pragma warning restore CA1819

    public string BodyText => Encoding.UTF8.GetString(Body);

    public override string ToString() => $"{Method} {Target} ({Body.Length} bytes)";
}
