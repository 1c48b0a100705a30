using Gollamas.Forwarding;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Robustness;

/// <summary>
/// The body limit at its edges, and what a declared Content-Length may cost before any byte of the
/// body has arrived. The body is a recording stream, so the test sees how much room each read was offered.
/// </summary>
public sealed class RequestBodyBufferTests
{
    private const int Limit = 64 * 1024;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadAsync_BodyOfExactlyTheLimit_IsAccepted(bool declared)
    {
        var body = Pattern(Limit);
        var request = Request(new RecordingStream(body), declared ? body.Length : null);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, Limit, CancellationToken.None);

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

        using var buffer = await RequestBodyBuffer.ReadAsync(request, Limit, CancellationToken.None);

        buffer.Should().BeNull();
    }

    [Fact]
    public async Task ReadAsync_DeclaredLengthAtTheLimitButFewBytesSent_DoesNotReserveTheDeclaredSize()
    {
        const long maxBytes = 256L * 1024 * 1024;
        var stream = new RecordingStream(Pattern(10));
        var request = Request(stream, maxBytes);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, maxBytes, CancellationToken.None);

        buffer!.Length.Should().Be(10);
        stream.LargestReadOffered.Should().BeLessThanOrEqualTo(1024 * 1024, "headers alone must not pin the whole body limit in memory");
    }

    [Fact]
    public async Task ReadAsync_LimitAndDeclaredLengthBeyondTwoGigabytes_DoesNotOverflow()
    {
        var stream = new RecordingStream(Pattern(10));
        var request = Request(stream, 3L * 1024 * 1024 * 1024);

        using var buffer = await RequestBodyBuffer.ReadAsync(request, 4L * 1024 * 1024 * 1024, CancellationToken.None);

        buffer!.Span.ToArray().Should().Equal(Pattern(10));
    }

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
