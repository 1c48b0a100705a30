using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Win32.SafeHandles;

namespace Gollamas.Bodies;

/// <summary>
/// A request body read whole before a server is chosen (the model is inside it): in a pooled
/// array while it is small, in an unlinked temporary file of the <see cref="BodyStore"/> once it
/// grows past the store's threshold or finds its memory budget spent. The file is read back at
/// offsets, as often as needed (a failover sends the same body again). Disposing returns the
/// array, or closes the file, which frees its space.
/// </summary>
internal sealed class RequestBodyBuffer : IDisposable
{
    private const int InitialSize = 16 * 1024;

    /// <summary>Bytes moved to and from a file at a time, in one pooled buffer.</summary>
    internal const int FileChunkSize = 64 * 1024;

    private readonly BodyStore _store;
    private readonly int _limit;
    private readonly JsonBodyScan? _scan;
    private byte[] _buffer = [];
    private int _reserved;
    private SafeFileHandle? _file;
    private FileStream? _fileStream;

    private RequestBodyBuffer(BodyStore store, int limit, JsonBodyScan? scan)
    {
        _store = store;
        _limit = limit;
        _scan = scan;
    }

    public int Length { get; private set; }

    /// <summary>Whether the body lives in a file; then <see cref="Span"/> and <see cref="Memory"/> must not be used.</summary>
    public bool IsSpooled => _file is not null;

    /// <summary>Whether a byte past the limit was offered: the body is too large and its bytes incomplete.</summary>
    public bool IsOverLimit { get; private set; }

    public ReadOnlySpan<byte> Span => IsSpooled ? throw Spooled() : _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => IsSpooled ? throw Spooled() : _buffer.AsMemory(0, Length);

    /// <summary>
    /// Reads the body. Returns null when it is larger than <paramref name="maxBytes"/>
    /// (Kestrel's own limit usually stops it first). <paramref name="scan"/>, when given, is fed
    /// every byte of a body that goes to a file, as it arrives; a body that stays in memory is
    /// left for the caller to feed in one piece.
    /// </summary>
    public static async ValueTask<RequestBodyBuffer?> ReadAsync(
        HttpRequest request, long maxBytes, BodyStore store, JsonBodyScan? scan, CancellationToken cancellationToken)
    {
        var declared = request.ContentLength;
        if (declared > maxBytes)
        {
            return null;
        }

        // A declared length over the threshold goes to a file from the first byte: it would only
        // be copied there later. A declared length is a claim, not bytes, so it never sizes an
        // array beyond the threshold either.
        var body = Create(store, maxBytes, declared, scan);
        try
        {
            await body.ReadFromAsync(request.Body, declared, cancellationToken);
        }
        catch (IOException ex) when (ex is not BadHttpRequestException)
        {
            // Kestrel reports most broken framing as BadHttpRequestException, but a chunk size that
            // overflows ("FFFFFFFFFFFFFFFFFFFF") as a plain IOException: a client error all the same,
            // so the dispatcher answers 400 (or nothing, if the client is gone) instead of 500.
            body.Dispose();
            throw new BadHttpRequestException("invalid request body", StatusCodes.Status400BadRequest, ex);
        }
        catch
        {
            body.Dispose();
            throw;
        }

        if (body.IsOverLimit)
        {
            body.Dispose();
            return null;
        }

        return body;
    }

    /// <summary>
    /// An empty body of at most <paramref name="maxBytes"/> to fill with <see cref="AppendAsync"/>;
    /// <paramref name="sizeHint"/>, when known, says how large it is expected to be;
    /// <paramref name="scan"/> is fed as in <see cref="ReadAsync(HttpRequest, long, BodyStore, JsonBodyScan?, CancellationToken)"/>.
    /// </summary>
    public static RequestBodyBuffer Create(BodyStore store, long maxBytes, long? sizeHint, JsonBodyScan? scan)
    {
        // The body is read back with int positions: no limit exceeds the longest array.
        var body = new RequestBodyBuffer(store, (int)Math.Min(maxBytes, Array.MaxLength), scan);
        if (sizeHint > store.MemoryThreshold)
        {
            body.UseFile(store.CreateFile(overBudget: false));
        }
        else
        {
            body.Grow(sizeHint is > 0 ? (int)sizeHint.Value : InitialSize);
        }

        return body;
    }

    /// <summary>Appends <paramref name="bytes"/>; past the limit it only marks the body <see cref="IsOverLimit"/>.</summary>
    public async ValueTask AppendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (bytes.Length > _limit - Length)
        {
            IsOverLimit = true;
            return;
        }

        if (_file is null && bytes.Length > _buffer.Length - Length)
        {
            Grow(Length + bytes.Length);
        }

        if (_file is null)
        {
            bytes.Span.CopyTo(_buffer.AsSpan(Length));
        }
        else
        {
            try
            {
                await RandomAccess.WriteAsync(_file, bytes, Length, cancellationToken);
            }
            catch (IOException ex)
            {
                throw new BodyStoreException(ex);
            }

            _scan?.Feed(bytes.Span);
        }

        Length += bytes.Length;
    }

    /// <summary>Copies up to <paramref name="destination"/>'s length of body bytes from <paramref name="offset"/>; returns how many.</summary>
    public int ReadAt(int offset, Span<byte> destination)
    {
        var count = Math.Min(destination.Length, Length - offset);
        if (_file is null)
        {
            _buffer.AsSpan(offset, count).CopyTo(destination);
            return count;
        }

        var done = 0;
        while (done < count)
        {
            var read = RandomAccess.Read(_file, destination[done..count], offset + done);
            if (read == 0)
            {
                throw new IOException("the body's temporary file ended early");
            }

            done += read;
        }

        return count;
    }

    /// <summary>As <see cref="ReadAt"/>, without blocking a thread on the file.</summary>
    public async ValueTask<int> ReadAtAsync(int offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var count = Math.Min(destination.Length, Length - offset);
        if (_file is null)
        {
            _buffer.AsMemory(offset, count).CopyTo(destination);
            return count;
        }

        var done = 0;
        while (done < count)
        {
            var read = await RandomAccess.ReadAsync(_file, destination[done..count], offset + done, cancellationToken);
            if (read == 0)
            {
                throw new IOException("the body's temporary file ended early");
            }

            done += read;
        }

        return count;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _store.Release(Interlocked.Exchange(ref _reserved, 0));
        }

        _file = null;
        Interlocked.Exchange(ref _fileStream, null)?.Dispose();
    }

    private async ValueTask ReadFromAsync(Stream source, long? declared, CancellationToken cancellationToken)
    {
        while (_file is null)
        {
            if (Length == _buffer.Length)
            {
                if (Length < _limit && Length != declared)
                {
                    Grow(Length + 1);
                    continue;
                }

                // Full at the limit or at the declared length: the body fits only if nothing follows.
                var probe = new byte[1];
                if (await source.ReadAsync(probe, cancellationToken) == 0)
                {
                    return;
                }

                await AppendAsync(probe, cancellationToken);
                if (IsOverLimit)
                {
                    return;
                }

                continue;
            }

            var read = await source.ReadAsync(_buffer.AsMemory(Length), cancellationToken);
            if (read == 0)
            {
                return;
            }

            if (read > _limit - Length)
            {
                IsOverLimit = true;
                return;
            }

            Length += read;
        }

        var chunk = ArrayPool<byte>.Shared.Rent(FileChunkSize);
        try
        {
            while (true)
            {
                var read = await source.ReadAsync(chunk.AsMemory(0, FileChunkSize), cancellationToken);
                if (read == 0)
                {
                    return;
                }

                await AppendAsync(chunk.AsMemory(0, read), cancellationToken);
                if (IsOverLimit)
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>
    /// Makes room for <paramref name="needed"/> bytes: a larger pooled array (doubling) while the
    /// body stays under the threshold and within the budget, else the bytes so far go to a new
    /// file and the array back to the pool.
    /// </summary>
    private void Grow(int needed)
    {
        var size = Math.Max(needed, Math.Min(_buffer.Length * 2L, _store.MemoryThreshold));
        if (needed <= _store.MemoryThreshold && _store.TryReserve((int)size - _reserved))
        {
            var larger = ArrayPool<byte>.Shared.Rent((int)size);
            _buffer.AsSpan(0, Length).CopyTo(larger);
            var old = _buffer;
            _buffer = larger;
            _reserved = (int)size;
            if (old.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(old);
            }

            return;
        }

        UseFile(_store.CreateFile(overBudget: needed <= _store.MemoryThreshold));

        // Length bytes at most the threshold, once per body: written where the thread is.
        try
        {
            RandomAccess.Write(_file!, _buffer.AsSpan(0, Length), 0);
        }
        catch (IOException ex)
        {
            throw new BodyStoreException(ex);
        }

        _scan?.Feed(_buffer.AsSpan(0, Length));
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _store.Release(_reserved);
        _reserved = 0;
    }

    private void UseFile(FileStream file)
    {
        _fileStream = file;
        _file = file.SafeFileHandle;
    }

    private static InvalidOperationException Spooled() =>
        new("The body is in a file; read it with ReadAt or ReadAtAsync.");
}
