using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Forwarding;

/// <summary>
/// A request body read whole into pooled memory (the model must be known before a server can be
/// chosen). Returned to the pool on dispose, after the upstream request has been sent.
/// </summary>
internal sealed class RequestBodyBuffer : IDisposable
{
    private const int InitialSize = 16 * 1024;

    // A declared Content-Length is a claim, not bytes: trusting it for the first rent would let
    // each client that sends headers alone pin up to the body limit (256 MB by default).
    private const int MaxInitialSize = 1024 * 1024;

    private byte[] _buffer;

    private RequestBodyBuffer(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>
    /// Reads the body. Returns null when it is larger than <paramref name="maxBytes"/>
    /// (Kestrel's own limit usually stops it first).
    /// </summary>
    public static async ValueTask<RequestBodyBuffer?> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        var declared = request.ContentLength;
        if (declared > maxBytes)
        {
            return null;
        }

        // One array holds the body, so no limit can exceed the longest array.
        var limit = (int)Math.Min(maxBytes, Array.MaxLength);
        var buffer = ArrayPool<byte>.Shared.Rent(declared is > 0 ? (int)Math.Min(declared.Value, MaxInitialSize) : InitialSize);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= limit)
                    {
                        // Full at the limit: the body fits only if nothing follows.
                        if (await request.Body.ReadAsync(new byte[1], cancellationToken) == 0)
                        {
                            break;
                        }

                        ArrayPool<byte>.Shared.Return(buffer);
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch (IOException ex) when (ex is not BadHttpRequestException)
        {
            // Kestrel reports most broken framing as BadHttpRequestException, but a chunk size that
            // overflows ("FFFFFFFFFFFFFFFFFFFF") as a plain IOException: a client error all the same,
            // so the dispatcher answers 400 (or nothing, if the client is gone) instead of 500.
            ArrayPool<byte>.Shared.Return(buffer);
            throw new BadHttpRequestException("invalid request body: " + ex.Message, StatusCodes.Status400BadRequest, ex);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new RequestBodyBuffer(buffer, length);
    }

    /// <summary>Takes ownership of a pooled array holding a body of <paramref name="length"/> bytes.</summary>
    public static RequestBodyBuffer FromPooled(byte[] buffer, int length) => new(buffer, length);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
