using Gollamas.Bodies;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// The body limit at its edges, what a declared Content-Length may cost before any byte of the
/// body has arrived, and where a body lives: memory while small, an unlinked temporary file past
/// the threshold or once the memory budget is spent. The body is a recording stream, so the test
/// sees how much room each read was offered.
/// </summary>
public sealed class RequestBodyBufferTests : IDisposable
{
    private const int Limit = 64 * 1024;

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("gollamas-bodies-");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadAsync_BodyOfExactlyTheLimit_IsAccepted(bool declared)
    {
        var body = Pattern(Limit);
        var request = Request(new RecordingStream(body), declared ? body.Length : null);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, Limit, Store(), scan: null, CancellationToken.None);

        buffer.Should().NotBeNull("Kestrel's limit and the error message both allow a body of exactly the limit");
        buffer!.Span.ToArray().Should().Equal(body);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadAsync_OneByteOverTheLimit_IsRefused(bool declared)
    {
        var body = Pattern(Limit + 1);
        var request = Request(new RecordingStream(body), declared ? body.Length : null);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, Limit, Store(), scan: null, CancellationToken.None);

        buffer.Should().BeNull();
    }

    [Fact]
    public async Task ReadAsync_DeclaredLengthAtTheLimitButFewBytesSent_DoesNotReserveTheDeclaredSize()
    {
        const long maxBytes = 256L * 1024 * 1024;
        var stream = new RecordingStream(Pattern(10));
        var request = Request(stream, maxBytes);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, maxBytes, Store(), scan: null, CancellationToken.None);

        buffer!.Length.Should().Be(10);
        stream.LargestReadOffered.Should().BeLessThanOrEqualTo(1024 * 1024, "headers alone must not pin the whole body limit in memory");
    }

    [Fact]
    public async Task ReadAsync_LimitAndDeclaredLengthBeyondTwoGigabytes_DoesNotOverflow()
    {
        var stream = new RecordingStream(Pattern(10));
        var request = Request(stream, 3L * 1024 * 1024 * 1024);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, 4L * 1024 * 1024 * 1024, Store(), scan: null, CancellationToken.None);

        // A declared length over the threshold goes to a file from the first byte.
        var back = new byte[16];
        buffer!.ReadAt(0, back).Should().Be(10);
        back[..10].Should().Equal(Pattern(10));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadAsync_BodyOverTheThreshold_LivesInAnUnlinkedFileAndReadsBackWhole(bool declared)
    {
        var content = Pattern(300 * 1024 + 17);
        var store = Store(threshold: 64 * 1024);
        var request = Request(new RecordingStream(content), declared ? content.Length : null);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, 1024 * 1024, store, scan: null, CancellationToken.None);

        buffer!.IsSpooled.Should().BeTrue();
        buffer.Length.Should().Be(content.Length);
        store.SpooledBySize.Should().Be(1);
        store.InMemory.Should().Be(0, "the array that held the first bytes went back when the body moved to the file");
        _temp.EnumerateFileSystemInfos().Should().BeEmpty("the file is unlinked as soon as it is opened");
        OpenDeletedBodyFiles().Should().Be(1);
        var back = new byte[content.Length];
        buffer.ReadAt(0, back).Should().Be(content.Length);
        back.Should().Equal(content);
    }

    [Fact]
    public async Task Dispose_SpooledBody_ClosesItsFile()
    {
        var request = Request(new RecordingStream(Pattern(200 * 1024)), null);
        var buffer = await RequestBodyBuffer.ReadAsync(request, 1024 * 1024, Store(threshold: 64 * 1024), scan: null, CancellationToken.None);
        OpenDeletedBodyFiles().Should().Be(1);

        buffer!.Dispose();

        OpenDeletedBodyFiles().Should().Be(0);
    }

    [Fact]
    public async Task ReadAsync_SpooledBodyOverTheLimit_RefusedAndItsFileClosed()
    {
        var request = Request(new RecordingStream(Pattern(200 * 1024)), null);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, 150 * 1024, Store(threshold: 64 * 1024), scan: null, CancellationToken.None);

        buffer.Should().BeNull();
        OpenDeletedBodyFiles().Should().Be(0);
    }

    [Fact]
    public async Task ReadAsync_MemoryBudgetSpent_SmallBodyGoesToAFileAndTheBudgetComesBack()
    {
        var store = Store(threshold: 64 * 1024, budget: 64 * 1024);
        using var first = await RequestBodyBuffer.ReadAsync(Request(new RecordingStream(Pattern(40 * 1024)), null), Limit, store, scan: null, CancellationToken.None);
        var content = Pattern(40 * 1024);

        using (var second = await RequestBodyBuffer.ReadAsync(Request(new RecordingStream(content), null), Limit, store, scan: null, CancellationToken.None))
        {
            first!.IsSpooled.Should().BeFalse();
            second!.IsSpooled.Should().BeTrue("the first body holds the whole budget");
            store.SpooledByBudget.Should().Be(1);
            var back = new byte[content.Length];
            second.ReadAt(0, back);
            back.Should().Equal(content);
        }

        first!.Dispose();
        store.InMemory.Should().Be(0);
    }

    public void Dispose() => _temp.Delete(recursive: true);

    private BodyStore Store(int threshold = BodyStore.DefaultMemoryThreshold, long budget = BodyStore.DefaultMemoryBudget) =>
        new(_temp.FullName, threshold, budget);

    // An unlinked file stays open as /proc/self/fd/N -> "PATH (deleted)": bodies of this test's directory only.
    private int OpenDeletedBodyFiles() =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Select(static fd => fd.LinkTarget)
            .Count(target => target is not null && target.StartsWith(_temp.FullName, StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal));

    private static HttpRequest Request(Stream body, long? contentLength)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = body;
        context.Request.ContentLength = contentLength;
        return context.Request;
    }

    private static byte[] Pattern(int length) => Enumerable.Range(0, length).Select(static i => (byte)(i * 7)).ToArray();

    /// <summary>A read-only body that hands out its bytes in reads of at most 8 KiB and records the room each read offered.</summary>
    private sealed class RecordingStream(byte[] content) : Stream
    {
        private int _position;

        public int LargestReadOffered { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            LargestReadOffered = Math.Max(LargestReadOffered, buffer.Length);
            var count = Math.Min(Math.Min(buffer.Length, 8 * 1024), content.Length - _position);
            content.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return ValueTask.FromResult(count);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
