using System.Numerics;
using System.Reflection;
using System.Text;
using Gollamas.Bodies;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// <see cref="JsonBodyScan"/> on bodies far larger than its window, built chunk by chunk as they
/// would arrive: one huge string, number or white-space run, the deepest nesting Go accepts, a
/// million array elements. The result must be right and the pooled memory the scan holds must stay
/// at its window (and the model captures) whatever the body's size.
/// </summary>
public sealed class JsonBodyScanTests
{
    private const int Window = 4096;

    private static readonly RequestDefaults s_forced = new("-1", "-1", forceKeepAlive: true, 8192, forceNumCtx: true);

    [Fact]
    public void Scan_FiftyMegabyteImageBeforeTheModel_FindsTheModelInAWindowsWorthOfMemory()
    {
        var body = new ChunkedBody();
        body.Add("{\"messages\":[{\"role\":\"user\",\"images\":[\"");
        body.Repeat((byte)'A', 50 * 1024 * 1024);
        body.Add("\"]}],\"model\":\"llama3.2\"}");

        var (result, name, scan) = body.Scan(acceptName: false, Window);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be("llama3.2");
        result.TokenStart.Should().Be(body.Length - "\"llama3.2\"}".Length);
        result.TokenLength.Should().Be("\"llama3.2\"".Length);
        body.MostRetained.Should().BeLessThanOrEqualTo(RetainedLimit(Window));
        scan.RetainedBytes.Should().BeLessThanOrEqualTo(RetainedLimit(Window));
    }

    [Fact]
    public void Scan_FiveMegabyteNumCtx_IsReplacedWholeByAForcedDefault()
    {
        var body = new ChunkedBody();
        body.Add("""{"model":"m","options":{"num_ctx":-""");
        var numberStart = body.Length - 1;
        body.Repeat((byte)'7', 5 * 1024 * 1024);
        body.Add(".5e+3 } , \"keep_alive\":0.000");
        body.Repeat((byte)'1', 100_000);
        body.Add("}");

        var (result, name, scan) = body.Scan(acceptName: false, Window);
        var layout = scan.Layout;

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be("m");
        layout.IsObject.Should().BeTrue();
        layout.NumCtx.Start.Should().Be(numberStart);
        layout.NumCtx.Length.Should().Be(1 + (5 * 1024 * 1024) + ".5e+3".Length);
        layout.KeepAlive.Length.Should().Be("0.000".Length + 100_000);
        layout.KeepAlive.Start.Should().Be(body.Length - 1 - layout.KeepAlive.Length);
        layout.TopClose.Should().Be(body.Length - 1);
        body.MostRetained.Should().BeLessThanOrEqualTo(RetainedLimit(Window));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("-0")]
    [InlineData("1.5")]
    [InlineData("2E-7")]
    public void Scan_HugeNumberAsTheWholeBody_IsNotAnObject(string tail)
    {
        var body = new ChunkedBody();
        body.Repeat((byte)'9', 1024 * 1024);
        body.Add(tail);

        var (result, _, _) = body.Scan(acceptName: false, Window);

        result.Status.Should().Be(tail == "-0" ? PeekStatus.InvalidJson : PeekStatus.NotAnObject);
    }

    [Theory]
    [InlineData("1.", nameof(PeekStatus.InvalidJson))]
    [InlineData("1.5.", nameof(PeekStatus.InvalidJson))]
    [InlineData("e5e", nameof(PeekStatus.InvalidJson))]
    [InlineData("x", nameof(PeekStatus.InvalidJson))]
    [InlineData("e+5", nameof(PeekStatus.Found))]
    [InlineData(" ", nameof(PeekStatus.Found))]
    public void Scan_HugeNumberFollowedBy_AcceptedExactlyAsTheReaderWould(string after, string status)
    {
        var body = new ChunkedBody();
        body.Add("""{"model":"m","n":-""");
        body.Repeat((byte)'3', 100_000);
        body.Add(after + "}");

        var (result, _, _) = body.Scan(acceptName: false, JsonBodyScan.MinWindowSize);

        result.Status.Should().Be(Enum.Parse<PeekStatus>(status));
    }

    [Fact]
    public void Scan_TenMegabytesOfWhiteSpaceAroundEveryToken_FindsTheModelWhereItIs()
    {
        var body = new ChunkedBody();
        var ws = " \t\r\n"u8.ToArray();
        foreach (var token in new[] { "{", "\"x\"", ":", "1", ",", "\"model\"", ":", "\"llama3.2\"", ",", "\"options\"", ":", "{", "}", "}" })
        {
            body.Repeat(ws, 200_000);
            body.Add(token);
        }

        var (result, name, scan) = body.Scan(acceptName: false, Window);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be("llama3.2");
        result.TokenStart.Should().Be((8 * 800_000) + "{\"x\":1,\"model\":".Length);
        scan.Layout.TopClose.Should().Be(body.Length - 1);
        scan.Layout.OptionsClose.Should().Be(body.Length - 1 - 800_000 - 1);
        body.MostRetained.Should().BeLessThanOrEqualTo(RetainedLimit(Window));
    }

    [Fact]
    public void Scan_LongKeysAndStringsWithEscapesAndInvalidUtf8_ReadAsWhole()
    {
        var body = new ChunkedBody();
        body.Add("{\"");
        body.Repeat("k\\u00e9\\n\\\\\xff\xfe"u8.ToArray(), 50_000);
        body.Add("\"  :  \"");
        body.Repeat("\\ud800\x80\\\"/"u8.ToArray(), 50_000);
        body.Add("\" , \"model\" : \"\\u006d\\u00e9\"}");

        var (result, name, _) = body.Scan(acceptName: false, JsonBodyScan.MinWindowSize);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be("m\u00e9");
        result.TokenStart.Should().Be(body.Length - 1 - "\"\\u006d\\u00e9\"".Length);
    }

    [Theory]
    [InlineData("\\x", nameof(PeekStatus.InvalidJson))]
    [InlineData("\\u12G4", nameof(PeekStatus.InvalidJson))]
    [InlineData("\u0001", nameof(PeekStatus.InvalidJson))]
    [InlineData("\\u12aF", nameof(PeekStatus.Found))]
    public void Scan_LongStringWithAnEscapeOrControlByteFarIn_AcceptedExactlyAsTheReaderWould(string inside, string status)
    {
        var body = new ChunkedBody();
        body.Add("{\"model\":\"m\",\"prompt\":\"");
        body.Repeat((byte)'p', 100_000);
        body.Add(inside + "\"}");

        var (result, _, _) = body.Scan(acceptName: false, JsonBodyScan.MinWindowSize);

        result.Status.Should().Be(Enum.Parse<PeekStatus>(status));
    }

    [Theory]
    [InlineData(600, nameof(PeekStatus.Found))]
    [InlineData(601, nameof(PeekStatus.ModelTooLong))]
    public void Scan_EscapedModelLongerThanTheWindow_IsDecodedOrTooLongAsInOneReading(int chars, string status)
    {
        var body = new ChunkedBody();
        body.Add("{\"model\":\"");
        body.Repeat("\\u0061"u8.ToArray(), chars);
        body.Add("\"}");

        var (result, name, _) = body.Scan(acceptName: true, JsonBodyScan.MinWindowSize);

        result.Status.Should().Be(Enum.Parse<PeekStatus>(status));
        name.Should().Be(status == nameof(PeekStatus.Found) ? new string('a', chars) : null);
        if (status == nameof(PeekStatus.Found))
        {
            result.TokenStart.Should().Be("{\"model\":".Length);
            result.TokenLength.Should().Be((chars * 6) + 2);
        }
    }

    [Fact]
    public void Scan_HugeModelValue_IsTooLong()
    {
        var body = new ChunkedBody();
        body.Add("{\"name\":\"x\",\"model\":\"");
        body.Repeat((byte)'m', 3 * 1024 * 1024);
        body.Add("\"}");

        var (result, _, _) = body.Scan(acceptName: true, Window);

        result.Status.Should().Be(PeekStatus.ModelTooLong);
        body.MostRetained.Should().BeLessThanOrEqualTo(RetainedLimit(Window));
    }

    [Theory]
    [InlineData(10_000, nameof(PeekStatus.Found))]
    [InlineData(10_001, nameof(PeekStatus.InvalidJson))]
    public void Scan_NestingAtGosLimitInSmallChunks_AcceptedUpToTenThousandLevels(int depth, string status)
    {
        var body = new ChunkedBody(chunkSize: 7);
        body.Add("{\"model\":\"a\",\"f\":");
        body.Repeat((byte)'[', depth - 1);
        body.Repeat((byte)']', depth - 1);
        body.Add("}");

        var (result, _, _) = body.Scan(acceptName: false, JsonBodyScan.MinWindowSize);

        result.Status.Should().Be(Enum.Parse<PeekStatus>(status));
        body.MostRetained.Should().BeLessThanOrEqualTo(RetainedLimit(JsonBodyScan.MinWindowSize));
    }

    [Fact]
    public void Scan_MillionArrayElementsBeforeTheModel_FindsItAndPlansTheDefaults()
    {
        var body = new ChunkedBody(chunkSize: 1000);
        body.Add("{\"messages\":[");
        for (var i = 0; i < 1_000_000; i++)
        {
            body.Add(i == 0 ? "{\"a\":1}" : ",{\"a\":1}");
        }

        body.Add("],\"keep_alive\":\"5m\",\"model\":\"llama3.2\"}");

        var (result, name, scan) = body.Scan(acceptName: false, Window);
        var rewritten = RequestDefaultsSplice.Apply(new ForwardBody(new byte[body.Length]), scan.Layout, s_forced);

        result.Status.Should().Be(PeekStatus.Found);
        name.Should().Be("llama3.2");
        rewritten.SpliceCount.Should().Be(2);
        scan.Layout.KeepAlive.Length.Should().Be("\"5m\"".Length);
        body.MostRetained.Should().BeLessThanOrEqualTo(RetainedLimit(Window));
    }

    [Fact]
    public void Scan_SmallBodyInOneChunk_HoldsNoWindow()
    {
        using var scan = new JsonBodyScan(acceptName: false);

        scan.Feed("""{"model":"llama3.2","prompt":"hi"}"""u8);
        var result = scan.Complete(new char[ModelPeek.MaxNameChars]);

        result.Status.Should().Be(PeekStatus.Found);
        scan.RetainedBytes.Should().Be((int)BitOperations.RoundUpToPowerOf2((uint)JsonBodyScan.CapturePoolBytes), "only the model's capture is pooled");
    }

    // The window and the model and name captures, as the shared pool rounds them.
    private static int RetainedLimit(int window) =>
        (int)(BitOperations.RoundUpToPowerOf2((uint)window) + BitOperations.RoundUpToPowerOf2((uint)JsonBodyScan.CapturePoolBytes));

    /// <summary>A body given as its parts, fed to a scan in fixed-size chunks without ever being whole in memory.</summary>
    private sealed class ChunkedBody(int chunkSize = 65_536)
    {
        private readonly List<(byte[] Bytes, int Times)> _parts = [];

        public int Length { get; private set; }

        /// <summary>The most pooled memory the scan held after any chunk.</summary>
        public int MostRetained { get; private set; }

        public void Add(string text) => Add(Encoding.UTF8.GetBytes(text));

        public void Add(byte[] bytes) => Repeat(bytes, 1);

        public void Repeat(byte value, int times) => Repeat([value], times);

        public void Repeat(byte[] bytes, int times)
        {
            _parts.Add((bytes, times));
            Length += bytes.Length * times;
        }

        public (ModelPeekResult Result, string? Name, JsonBodyScan Scan) Scan(bool acceptName, int windowSize)
        {
            var scan = new JsonBodyScan(acceptName, windowSize, s_forced.Watched);
            var chunk = new byte[chunkSize];
            var filled = 0;
            foreach (var (bytes, times) in _parts)
            {
                for (var t = 0; t < times; t++)
                {
                    foreach (var b in bytes)
                    {
                        chunk[filled++] = b;
                        if (filled == chunk.Length)
                        {
                            Feed(scan, chunk);
                            filled = 0;
                        }
                    }
                }
            }

            Feed(scan, chunk.AsSpan(0, filled));
            var name = new char[ModelPeek.MaxNameChars];
            var result = scan.Complete(name);
            return (result, result.Status == PeekStatus.Found ? new string(name, 0, result.NameLength) : null, scan);
        }

        private void Feed(JsonBodyScan scan, ReadOnlySpan<byte> bytes)
        {
            scan.Feed(bytes);
            MostRetained = Math.Max(MostRetained, scan.RetainedBytes);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rent_AfterBodiesWereScanned_TheSameScannerComesBackAsNew(bool acceptName)
    {
        // Rented scanners are kept between requests: one request's model, layout or error must
        // never reach the next. Every field of the one given back equals a new scanner's.
        var image = new string('A', 3 * JsonBodyScan.DefaultWindowSize);
        var bodies = new[]
        {
            $$"""{"name":"x","model":"llama\u0033.2","images":["{{image}}"],"options":{"num_ctx":8192},"keep_alive":"5m"}""",
            $$"""{"model":"a","prompt":"{{image}}" """,
            "[1,2]",
        };
        var first = JsonBodyScan.Rent(acceptName);
        var scan = first;
        foreach (var body in bodies)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            for (var i = 0; i < bytes.Length; i += 1000)
            {
                scan.Feed(bytes.AsSpan(i, Math.Min(1000, bytes.Length - i)));
            }

            scan.Complete(new char[ModelPeek.MaxNameChars]);
            scan.Dispose();
            scan = JsonBodyScan.Rent(acceptName);
            scan.Should().BeSameAs(first, "the thread's spare is given out again");
        }

        using var fresh = new JsonBodyScan(acceptName);
        foreach (var field in typeof(JsonBodyScan).GetFields(BindingFlags.Instance | BindingFlags.NonPublic))
        {
            if (field.Name != "_rented")
            {
                ShouldBeSameState(field.GetValue(scan), field.GetValue(fresh), field.Name);
            }
        }

        scan.Dispose();
    }

    // Field by field down through structs (an inline array's built-in Equals throws).
    private static void ShouldBeSameState(object? actual, object? expected, string path)
    {
        if (actual is null || expected is null || !actual.GetType().IsValueType || actual.GetType().IsPrimitive || actual.GetType().IsEnum)
        {
            actual.Should().Be(expected, $"{path} is reset");
            return;
        }

        foreach (var field in actual.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            ShouldBeSameState(field.GetValue(actual), field.GetValue(expected), $"{path}.{field.Name}");
        }
    }

    [Fact]
    public void Rent_NextBodyOnTheSameScanner_ReadAsByANewOne()
    {
        var name = new char[ModelPeek.MaxNameChars];
        using (var scan = JsonBodyScan.Rent(acceptName: false))
        {
            scan.Feed("""{"model":"first","keep_alive":"5m","options":{"num_ctx":1}}"""u8);
            scan.Complete(name).Status.Should().Be(PeekStatus.Found);
        }

        using var next = JsonBodyScan.Rent(acceptName: false);
        next.Feed("""{"prompt":"no model here"}"""u8);

        next.Complete(name).Status.Should().Be(PeekStatus.ModelMissing);
        using var fresh = new JsonBodyScan(acceptName: false);
        fresh.Feed("""{"prompt":"no model here"}"""u8);
        fresh.Complete(name);
        ShouldBeSameState(next.Layout, fresh.Layout, "Layout");
    }
}
