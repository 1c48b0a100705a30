using System.Globalization;
using System.Text;
using Gollamas.Bodies;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// <see cref="ForwardBody"/>: the client's bytes with up to three splices, read as a length, a copy, and the
/// ordered segments the upstream connection writes one by one.
/// </summary>
public sealed class ForwardBodyTests
{
    [Theory]
    // Each splice is "start,length,replacement", added in the order given.
    [InlineData("0123456789", "0123456789", new[] { "0123456789" })]
    [InlineData("0123456789", "01AB456789", new[] { "01", "AB", "456789" }, "2,2,AB")]
    [InlineData("0123456789", "0123456789xy", new[] { "0123456789", "xy", "" }, "10,0,xy")]
    [InlineData("0123456789", "xy0123456789", new[] { "", "xy", "0123456789" }, "0,0,xy")]
    [InlineData("0123456789", "0189", new[] { "01", "", "89" }, "2,6,")]
    [InlineData("0123456789", "", new[] { "", "", "" }, "0,10,")]
    [InlineData("0123456789", "0ABC3456<>789!", new[] { "0", "ABC", "3456", "<>", "789", "!", "" }, "1,2,ABC", "7,0,<>", "10,0,!")]
    [InlineData("0123456789", "0ABC3456<>789!", new[] { "0", "ABC", "3456", "<>", "789", "!", "" }, "10,0,!", "7,0,<>", "1,2,ABC")]
    [InlineData("0123456789", "01234abc56789", new[] { "01234", "a", "", "b", "", "c", "56789" }, "5,0,a", "5,0,b", "5,0,c")]
    [InlineData("0123456789", "01<AB>456789", new[] { "01", "<", "", "AB", "", ">", "456789" }, "2,2,AB", "4,0,>", "2,0,<")]
    [InlineData("0123456789", "X123456789YZ", new[] { "", "X", "123456789", "Y", "", "Z", "" }, "0,1,X", "10,0,Y", "10,0,Z")]
    public void Splices_InAnyOrder_GiveLengthCopyAndSegmentsInBodyOrder(string original, string expected, string[] segments, params string[] splices)
    {
        var body = Build(original, splices);

        body.SpliceCount.Should().Be(splices.Length);
        body.Length.Should().Be(Encoding.UTF8.GetByteCount(expected));
        Copy(body).Should().Be(expected);
        body.SegmentCount.Should().Be((2 * splices.Length) + 1);
        Segments(body).Should().Equal(segments);
    }

    [Fact]
    public void Constructor_WithOneSplice_IsTheSameAsAddingIt()
    {
        var original = "{\"model\":\"alias\"}"u8.ToArray();

        var body = new ForwardBody(original, 9, 7, "\"llama3.2\""u8.ToArray());

        Copy(body).Should().Be("{\"model\":\"llama3.2\"}");
        Segments(body).Should().Equal("{\"model\":", "\"llama3.2\"", "}");
    }

    [Fact]
    public void WithSplice_EmptyInsertion_AddsNoSplice()
    {
        var body = new ForwardBody("abc"u8.ToArray());

        var same = body.WithSplice(1, 0, ReadOnlyMemory<byte>.Empty);

        same.SpliceCount.Should().Be(0);
        Copy(same).Should().Be("abc");
    }

    [Fact]
    public void WithSplice_LeavesTheBodyItWasCalledOnUnchanged()
    {
        var body = new ForwardBody("abc"u8.ToArray());

        var spliced = body.WithSplice(1, 1, "X"u8.ToArray());

        Copy(body).Should().Be("abc");
        Copy(spliced).Should().Be("aXc");
    }

    [Theory]
    [InlineData("2,4,AB", "3,0,x")] // an insertion strictly inside a replaced range
    [InlineData("2,4,AB", "5,3,x")] // ranges that share bytes
    [InlineData("2,4,AB", "0,3,x")]
    [InlineData("2,4,AB", "2,1,x")] // two ranges from the same start
    public void WithSplice_OverlappingAnExistingSplice_Throws(string first, string second)
    {
        var body = Build("0123456789", first);
        var (start, length, replacement) = Parse(second);

        var add = () => body.WithSplice(start, length, replacement);

        add.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void WithSplice_MoreThanTheInlineSplices_AllApplyInOrder()
    {
        var body = Build("0123456789", "5,1,c", "1,1,a", "3,1,b");

        var more = body.WithSplice(9, 1, "e"u8.ToArray()).WithSplice(7, 1, "d"u8.ToArray()).WithSplice(0, 0, "<"u8.ToArray());

        more.SpliceCount.Should().Be(6);
        Copy(more).Should().Be("<0a2b4c6d8e");
        Copy(body).Should().Be("0a2b4c6789", "the body it was made from keeps its own splices");
        var overlap = () => more.WithSplice(6, 2, "x"u8.ToArray());
        overlap.Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(11, 0)]
    [InlineData(5, 6)]
    [InlineData(0, -1)]
    public void WithSplice_RangeOutsideTheBody_Throws(int start, int length)
    {
        var body = new ForwardBody("0123456789"u8.ToArray());

        var add = () => body.WithSplice(start, length, "x"u8.ToArray());

        add.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void GetSegment_PastTheLast_Throws()
    {
        var body = Build("0123456789", "1,1,a");

        var get = () => body.GetSegment(3);

        get.Should().Throw<ArgumentOutOfRangeException>();
    }

    private static ForwardBody Build(string original, params string[] splices)
    {
        var body = new ForwardBody(Encoding.UTF8.GetBytes(original));
        foreach (var splice in splices)
        {
            var (start, length, replacement) = Parse(splice);
            body = body.WithSplice(start, length, replacement);
        }

        return body;
    }

    private static (int Start, int Length, byte[] Replacement) Parse(string splice)
    {
        var parts = splice.Split(',', 3);
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), Encoding.UTF8.GetBytes(parts[2]));
    }

    private static string Copy(ForwardBody body)
    {
        var bytes = new byte[body.Length];
        body.CopyTo(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    private static string[] Segments(ForwardBody body)
    {
        var segments = new string[body.SegmentCount];
        for (var i = 0; i < segments.Length; i++)
        {
            segments[i] = Encoding.UTF8.GetString(body.GetSegment(i).Span);
        }

        return segments;
    }
}
