using System.Text;
using Gollamas.Connections;

namespace Gollamas.Tests.Connections;

/// <summary><see cref="ChunkedDecoder"/> on its own: framed bytes in, data out, with the source bytes it used.</summary>
public sealed class ChunkedDecoderTests
{
    private const string Framed = "5;name=value\r\nhello\r\n1A ; a=1;b=\"x;y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0;last\r\nX-Checksum: abc\r\n\r\n";

    [Fact]
    public void Decode_WholeBodyAndWhatFollows_DataOutAndStopsAtTheEnd()
    {
        var decoder = NewDecoder();
        var source = Encoding.ASCII.GetBytes(Framed + "HTTP/1.1 200 OK\r\n");
        var destination = new byte[100];

        var written = decoder.Decode(source, destination, out var consumed);

        Encoding.ASCII.GetString(destination, 0, written).Should().Be("helloabcdefghijklmnopqrstuvwxyz");
        consumed.Should().Be(Framed.Length, "bytes after the body are not the body's");
        decoder.IsComplete.Should().BeTrue();
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 100)]
    [InlineData(3, 2)]
    [InlineData(100, 1)]
    public void Decode_SourceAndDestinationInSmallPieces_SameDataAsInOnePiece(int sourcePiece, int destinationSize)
    {
        var decoder = NewDecoder();
        var framed = Encoding.ASCII.GetBytes(Framed);
        var data = new List<byte>();
        var pending = new List<byte>();
        var fed = 0;
        var destination = new byte[destinationSize];

        for (var steps = 0; !decoder.IsComplete && steps < 10_000; steps++)
        {
            var written = decoder.Decode(pending.ToArray(), destination, out var consumed);
            data.AddRange(destination.AsSpan(0, written).ToArray());
            pending.RemoveRange(0, consumed);
            if (written == 0 && consumed == 0)
            {
                var take = Math.Min(sourcePiece, framed.Length - fed);
                take.Should().BePositive("the decoder needs no more than the whole body");
                pending.AddRange(framed.AsSpan(fed, take).ToArray());
                fed += take;
            }
        }

        decoder.IsComplete.Should().BeTrue();
        Encoding.ASCII.GetString([.. data]).Should().Be("helloabcdefghijklmnopqrstuvwxyz");
        pending.Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5\r")]
    [InlineData("5\r\n")]
    [InlineData("0\r\n")]
    [InlineData("0\r\nX: 1\r\n")]
    [InlineData("0\r\n\r")]
    public void Decode_BodyNotEndedYet_WaitsForMore(string framed)
    {
        var decoder = NewDecoder();

        decoder.Decode(Encoding.ASCII.GetBytes(framed), new byte[16], out _).Should().Be(0);

        decoder.IsComplete.Should().BeFalse();
    }

    [Theory]
    [InlineData("zz\r\n", "invalid chunk size")]
    [InlineData("\r\n", "invalid chunk size")]
    [InlineData(" 5\r\n", "invalid chunk size")]
    [InlineData("-1\r\n", "invalid chunk size")]
    [InlineData("+1\r\n", "invalid chunk size")]
    [InlineData("0x5\r\n", "invalid chunk size")]
    [InlineData(";ext\r\n", "invalid chunk size")]
    [InlineData("1000000000000000\r\n", "invalid chunk size")] // 16 hex digits
    [InlineData("3\r\nabcXY", "chunk data not followed by CRLF")]
    [InlineData("3\r\nabc\rX", "chunk data not followed by CRLF")]
    [InlineData("3\r\nabcX", "chunk data not followed by CRLF")] // no need to wait for a second byte
    public void Decode_InvalidFraming_Throws(string framed, string reason)
    {
        var decoder = NewDecoder();
        var bytes = Encoding.ASCII.GetBytes(framed);
        var destination = new byte[16];
        var consumed = 0;

        var decode = () =>
        {
            // The data before bad framing comes out first; the next call, at the bad bytes, throws.
            for (var i = 0; i < 3; i++)
            {
                decoder.Decode(bytes.AsSpan(consumed), destination, out var used);
                consumed += used;
            }
        };

        decode.Should().Throw<UpstreamProtocolException>().Which.Message.Should().Be(reason);
    }

    [Fact]
    public void Decode_DataThenBadFraming_DataHandedOverFirstThenTheNextCallThrows()
    {
        var decoder = NewDecoder();
        var bytes = "3\r\nabcXY"u8.ToArray();
        var destination = new byte[16];

        var written = decoder.Decode(bytes, destination, out var consumed);
        var next = () => decoder.Decode(bytes.AsSpan(consumed), destination, out _);

        Encoding.ASCII.GetString(destination, 0, written).Should().Be("abc");
        consumed.Should().Be(6);
        next.Should().Throw<UpstreamProtocolException>().Which.Message.Should().Be("chunk data not followed by CRLF");
    }

    [Theory]
    [InlineData(ChunkedDecoder.MaxLineBytes, true, true)]
    [InlineData(ChunkedDecoder.MaxLineBytes, false, true)]
    [InlineData(ChunkedDecoder.MaxLineBytes + 1, true, false)]
    [InlineData(ChunkedDecoder.MaxLineBytes + 1, false, false)]
    public void Decode_SizeLineAtTheLimit_AcceptedOneByteMoreRefusedWhetherOrNotItsEndArrived(int lineLength, bool withCrlf, bool accepted)
    {
        var line = "5;" + new string('e', lineLength - 2);
        var source = Encoding.ASCII.GetBytes(withCrlf ? line + "\r\n" : line + "\r");
        var decoder = NewDecoder();

        var decode = () => decoder.Decode(source, new byte[16], out _);

        if (accepted)
        {
            decode.Should().NotThrow();
        }
        else
        {
            decode.Should().Throw<UpstreamProtocolException>().Which.Message.Should().Be("chunk size or trailer line longer than 4 KiB");
        }
    }

    [Fact]
    public void Decode_TrailerLineOverTheLimit_Throws()
    {
        var decoder = NewDecoder();
        var source = Encoding.ASCII.GetBytes("0\r\nX-Long: " + new string('v', ChunkedDecoder.MaxLineBytes) + "\r\n\r\n");

        var decode = () => decoder.Decode(source, new byte[16], out _);

        decode.Should().Throw<UpstreamProtocolException>().Which.Message.Should().Be("chunk size or trailer line longer than 4 KiB");
    }

    [Fact]
    public void Reset_AfterABody_DecodesTheNextOne()
    {
        var decoder = NewDecoder();
        decoder.Decode("1\r\na\r\n0\r\n\r\n"u8, new byte[16], out _);
        var destination = new byte[16];

        decoder.Reset();
        var written = decoder.Decode("2\r\nbc\r\n0\r\n\r\n"u8, destination, out var consumed);

        Encoding.ASCII.GetString(destination, 0, written).Should().Be("bc");
        consumed.Should().Be(12);
        decoder.IsComplete.Should().BeTrue();
    }

    private static ChunkedDecoder NewDecoder()
    {
        var decoder = new ChunkedDecoder();
        decoder.Reset();
        return decoder;
    }
}
