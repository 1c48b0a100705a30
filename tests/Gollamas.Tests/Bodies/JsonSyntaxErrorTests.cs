using System.Text;
using Gollamas.Bodies;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// The detail of "invalid JSON in request body": what was expected, and the byte offset in the
/// body, the same whether the body came whole or a byte at a time; never the reader's message
/// (a resource key in the published binary).
/// </summary>
public sealed class JsonSyntaxErrorTests
{
    [Theory]
    [InlineData("""{"model":""", "unexpected end of JSON input at byte offset 9")]
    [InlineData("""{"model":"llama""", "unexpected end of JSON input at byte offset 15")]
    [InlineData("""{"model" "m"}""", "expected ':' after the property name at byte offset 9")]
    [InlineData("""{"model":tru}""", "invalid literal (true, false or null) at byte offset 9")]
    [InlineData("""{"model":"m","n":01}""", "invalid number at byte offset 17")]
    [InlineData("""{"model":"m\x"}""", "invalid string (a bad escape, or a control character) at byte offset 9")]
    [InlineData("""{"model":"m" "x":1}""", "expected ',' or a closing bracket at byte offset 13")]
    [InlineData("""{"model":"m",}""", "expected a value after ',' at byte offset 13")]
    [InlineData("""[1,]""", "expected a value after ',' at byte offset 3")]
    [InlineData("""{model:"m"}""", "expected a property name in double quotes, or '}' at byte offset 1")]
    [InlineData("""{"model":}""", "expected a value at byte offset 9")]
    [InlineData("""  x""", "expected a JSON value (a string, number, object, array, true, false or null) at byte offset 2")]
    public void Scan_InvalidJson_SaysWhatAndWhere(string body, string detail)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var name = new char[ModelPeek.MaxNameChars];

        var whole = ModelPeek.Peek(bytes, acceptName: false, name);
        using var scan = new JsonBodyScan(acceptName: false, JsonBodyScan.MinWindowSize, WatchedFields.None);
        foreach (var b in bytes)
        {
            scan.Feed([b]);
        }

        var chunked = scan.Complete(name);

        whole.Status.Should().Be(PeekStatus.InvalidJson);
        whole.Detail.Should().Be(detail);
        chunked.Should().Be(whole);
    }
}
