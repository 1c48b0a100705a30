using System.Text;
using Gollamas.Connections;

namespace Gollamas.Tests.Connections;

/// <summary><see cref="ResponseHeadParser"/> on its own: bytes in, a parsed head (or the reason it is invalid) out.</summary>
public sealed class ResponseHeadParserTests
{
    [Theory]
    [InlineData("")]
    [InlineData("HTTP/1.1 200 OK")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r")]
    public void TryParse_HeadNotEndedYet_FalseAndNothingConsumed(string bytes)
    {
        var parsed = ResponseHeadParser.TryParse(Encoding.ASCII.GetBytes(bytes), isHeadRequest: false, out var consumed, out var head);

        parsed.Should().BeFalse();
        consumed.Should().Be(0);
        head.Should().BeNull();
    }

    [Fact]
    public void TryParse_HeadThenBody_ConsumesTheHeadOnlyAndKeepsFieldsInOrder()
    {
        const string headText = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nX-Empty:\r\nX-Spaces: \t a b \t\r\nTransfer-Encoding: chunked\r\n\r\n";

        var parsed = ResponseHeadParser.TryParse(Encoding.ASCII.GetBytes(headText + "5\r\nhello\r\n"), isHeadRequest: false, out var consumed, out var head);

        parsed.Should().BeTrue();
        consumed.Should().Be(headText.Length);
        head!.StatusCode.Should().Be(200);
        head.Headers.Select(static h => $"{h.Key}: {h.Value}").Should().Equal(
            "Content-Type: application/x-ndjson", "X-Empty: ", "X-Spaces: a b", "Transfer-Encoding: chunked");
        head.Framing.Should().Be(BodyFraming.Chunked);
        head.KeepAlive.Should().BeTrue();
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", false, "ContentLength", 12L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n", false, "ContentLength", 7L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, "Chunked", -1L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n", false, "Chunked", -1L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", false, "UntilClose", -1L, false)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 2\r\n\r\n", false, "UntilClose", -1L, false)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", false, "Chunked", -1L, true)]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", false, "UntilClose", -1L, false)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n", false, "ContentLength", 2L, false)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 2\r\n\r\n", false, "ContentLength", 2L, false)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", false, "ContentLength", 2L, false)]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", false, "ContentLength", 2L, false)]
    [InlineData("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n", false, "ContentLength", 2L, true)]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", false, "None", -1L, true)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, "None", 10L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, "None", 10L, true)]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", true, "None", -1L, true)]
    [InlineData("HTTP/1.1 599\r\nContent-Length: 0\r\n\r\n", false, "ContentLength", 0L, true)]
    public void TryParse_FramingAndPersistence_AsRfc9112Says(string headText, bool isHead, string framing, long contentLength, bool keepAlive)
    {
        ResponseHeadParser.TryParse(Encoding.ASCII.GetBytes(headText), isHead, out _, out var head).Should().BeTrue();

        head!.Framing.ToString().Should().Be(framing);
        head.ContentLength.Should().Be(contentLength);
        head.KeepAlive.Should().Be(keepAlive);
    }

    [Fact]
    public void TryParse_ContentLengthWithTransferEncoding_TheLengthFieldIsDropped()
    {
        ResponseHeadParser.TryParse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n"u8, false, out _, out var head);

        head!.Headers.Select(static h => h.Key).Should().Equal("X-A", "Transfer-Encoding");
    }

    [Fact]
    public void TryParse_TheSameContentLengthTwice_OneFieldKept()
    {
        ResponseHeadParser.TryParse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n"u8, false, out _, out var head);

        head!.Headers.Select(static h => $"{h.Key}: {h.Value}").Should().Equal("Content-Length: 5");
        head.ContentLength.Should().Be(5);
    }

    [Theory]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n")]
    [InlineData("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")]
    [InlineData("HTTP/1.1 199\r\n\r\n")]
    public void TryParse_InterimResponse_ConsumedWithoutAHead(string interim)
    {
        var bytes = Encoding.ASCII.GetBytes(interim + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        var parsed = ResponseHeadParser.TryParse(bytes, false, out var consumed, out var head);

        parsed.Should().BeTrue();
        head.Should().BeNull();
        consumed.Should().Be(interim.Length);
    }

    [Theory]
    [InlineData("garbage\r\n\r\n", "invalid status line")]
    [InlineData("\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 200\r\n\r\n", null)]
    [InlineData("HTTP/1.1 20\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 2000\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1  200 OK\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 099 OK\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.x 200 OK\r\n\r\n", "invalid status line")]
    [InlineData("http/1.1 200 OK\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/2 200 OK\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected 101 Switching Protocols")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\n: no name\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\u007Fb\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1,1\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n", "invalid Content-Length")]
    public void TryParse_InvalidHead_ThrowsTheReasonTheClientSees(string headText, string? reason)
    {
        var parse = () => ResponseHeadParser.TryParse(Encoding.ASCII.GetBytes(headText), false, out _, out _);

        if (reason is null)
        {
            parse.Should().NotThrow();
        }
        else
        {
            parse.Should().Throw<UpstreamProtocolException>().Which.Message.Should().Be(reason);
        }
    }

    [Theory]
    [InlineData(ResponseHeadParser.MaxHeadBytes, true)]
    [InlineData(ResponseHeadParser.MaxHeadBytes + 1, false)]
    public void TryParse_HeadAtTheLimit_AcceptedOneByteMoreRefusedWhetherOrNotItsEndArrived(int headLength, bool accepted)
    {
        var prefix = "HTTP/1.1 200 OK\r\nX-Big: ";
        var suffix = "\r\nContent-Length: 0\r\n\r\n";
        var head = Encoding.ASCII.GetBytes(prefix + new string('a', headLength - prefix.Length - suffix.Length) + suffix);

        var whole = () => ResponseHeadParser.TryParse(head, false, out _, out _);
        var withoutItsEnd = () => ResponseHeadParser.TryParse(head.AsSpan(0, head.Length - 1), false, out _, out _);

        if (accepted)
        {
            whole.Should().NotThrow().Which.Should().BeTrue();
            withoutItsEnd.Should().NotThrow().Which.Should().BeFalse();
        }
        else
        {
            whole.Should().Throw<UpstreamProtocolException>().Which.Message.Should().Be("response head larger than 64 KiB");
            withoutItsEnd.Should().Throw<UpstreamProtocolException>().Which.Message.Should().Be("response head larger than 64 KiB");
        }
    }
}
