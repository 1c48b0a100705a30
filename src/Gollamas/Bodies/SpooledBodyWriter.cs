using System.Buffers;

namespace Gollamas.Bodies;

/// <summary>
/// Writes a request whose body lies in a temporary file: the head, the client's bytes read from
/// the file in <see cref="RequestBodyBuffer.FileChunkSize"/> pieces, and the splices between them,
/// gathered in one pooled buffer so that each write to the server is a full one. Reads the file
/// by offsets, so the same body can be written again to another server.
/// </summary>
internal static class SpooledBodyWriter
{
    public static async ValueTask WriteAsync(Stream destination, ReadOnlyMemory<byte> head, ForwardBody body, CancellationToken cancellationToken)
    {
        var file = body.Spooled ?? throw new ArgumentException("The body is in memory.", nameof(body));
        var size = RequestBodyBuffer.FileChunkSize;
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var buffered = 0;
            async ValueTask<int> PutAsync(ReadOnlyMemory<byte> bytes, int at)
            {
                if (bytes.Length > size - at)
                {
                    if (at > 0)
                    {
                        await destination.WriteAsync(buffer.AsMemory(0, at), cancellationToken);
                        at = 0;
                    }

                    if (bytes.Length > size)
                    {
                        // Client headers may be up to Kestrel's 32 KiB, a spliced value is a few bytes:
                        // only an unusual head gets here, and it goes out where it lies.
                        await destination.WriteAsync(bytes, cancellationToken);
                        return 0;
                    }
                }

                bytes.CopyTo(buffer.AsMemory(at));
                return at + bytes.Length;
            }

            buffered = await PutAsync(head, buffered);
            for (var i = 0; i < body.SegmentCount; i++)
            {
                if ((i & 1) != 0)
                {
                    buffered = await PutAsync(body.GetSegment(i), buffered);
                    continue;
                }

                var (start, length) = body.GetRange(i);
                while (length > 0)
                {
                    if (buffered == size)
                    {
                        await destination.WriteAsync(buffer.AsMemory(0, buffered), cancellationToken);
                        buffered = 0;
                    }

                    var read = await file.ReadAtAsync(start, buffer.AsMemory(buffered, Math.Min(length, size - buffered)), cancellationToken);
                    buffered += read;
                    start += read;
                    length -= read;
                }
            }

            if (buffered > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, buffered), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
