using System.Buffers;
using System.Runtime.InteropServices;

namespace Gollamas.Bodies;

/// <summary>
/// Reads request bodies sent with <c>Content-Encoding: zstd</c>, which Ollama accepts on
/// <c>/v1/responses</c> (some agent clients compress): the model can only be found in the
/// decompressed JSON. Uses the system's libzstd (Debian/Ubuntu: libzstd1), loaded on the first
/// such body, so a proxy that never sees one never needs it.
/// </summary>
/// <remarks>
/// A compressed body is a lever: 1,984 bytes once decompressed to 62,914,588, and about 8 KB
/// reach the 256 MiB body limit. So the output streams into a <see cref="RequestBodyBuffer"/>
/// (memory while small, a temporary file past its threshold) through one pooled buffer, and is
/// bounded three ways: a total far below the body limit, a ratio to the input consumed, and
/// the window a frame may ask the decoder to keep (<c>ZSTD_d_windowLogMax</c>), which is what a
/// decompression context holds in memory.
/// </remarks>
internal static partial class ZstdBody
{
    /// <summary>Most bytes one body may decompress to, whatever the body limit.</summary>
    public const int DefaultMaxOutputBytes = 64 * 1024 * 1024;

    /// <summary>Output allowed per input byte past <see cref="RatioGrace"/>: JSON with base64 images compresses 2-4 times, text 5-20.</summary>
    public const int MaxRatio = 100;

    /// <summary>Output allowed before the ratio counts, so small bodies of repetitive JSON still pass.</summary>
    public const int RatioGrace = 1024 * 1024;

    /// <summary>
    /// 2^23 = 8 MiB, zstd's own limit for frames of compression levels up to 19 and the window
    /// its decoder accepts without being told more (ZSTD_WINDOWLOG_LIMIT_DEFAULT is 27 = 128 MiB).
    /// </summary>
    public const int MaxWindowLog = 23;

    private const string Library = "libzstd.so.1";
    private const int ChunkSize = RequestBodyBuffer.FileChunkSize;

    // ZSTD_dParameter ZSTD_d_windowLogMax; ZSTD_ErrorCode ZSTD_error_frameParameter_windowTooLarge.
    private const int WindowLogMaxParameter = 100;
    private const int WindowTooLargeError = 16;

    /// <summary>Whether the body is zstd-compressed, by its Content-Encoding.</summary>
    public static bool IsZstd(string? contentEncoding) =>
        contentEncoding is not null && contentEncoding.Trim().Equals("zstd", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Decompresses every frame of <paramref name="compressed"/> into a new body of the
    /// <paramref name="store"/>, at most <paramref name="maxBytes"/> of it. On failure the result
    /// says what to answer: 400 for a body that is not valid zstd (Ollama's wording), 413 for one
    /// that decompresses past a bound, 415 when libzstd is not installed. <paramref name="scan"/>
    /// sees the decompressed bytes as <see cref="RequestBodyBuffer"/> feeds it.
    /// </summary>
    public static async ValueTask<ZstdResult> DecompressAsync(
        RequestBodyBuffer compressed, BodyStore store, int maxBytes, JsonBodyScan? scan, CancellationToken cancellationToken)
    {
        nint context;
        try
        {
            context = ZSTD_createDCtx();
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return ZstdResult.Fail(415, $"gollamas cannot read zstd-compressed bodies here: {Library} is not installed (Debian/Ubuntu: libzstd1); send the body uncompressed");
        }

        if (context == 0 || ZSTD_isError(ZSTD_DCtx_setParameter(context, WindowLogMaxParameter, MaxWindowLog)) != 0)
        {
            ZSTD_freeDCtx(context);
            return ZstdResult.Fail(500, "gollamas: libzstd could not allocate a decompression context");
        }

        var output = RequestBodyBuffer.Create(store, maxBytes, sizeHint: null, scan);
        var input = compressed.IsSpooled ? ArrayPool<byte>.Shared.Rent(ChunkSize) : null;
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            var failure = await RunAsync(context, compressed, input, chunk, output, maxBytes, cancellationToken);
            if (failure is not null)
            {
                output.Dispose();
                return failure.Value;
            }

            return new ZstdResult(output, 200, null);
        }
        catch
        {
            output.Dispose();
            throw;
        }
        finally
        {
            ZSTD_freeDCtx(context);
            ArrayPool<byte>.Shared.Return(chunk);
            if (input is not null)
            {
                ArrayPool<byte>.Shared.Return(input);
            }
        }
    }

    private static async ValueTask<ZstdResult?> RunAsync(
        nint context, RequestBodyBuffer compressed, byte[]? input, byte[] chunk, RequestBodyBuffer output, int maxBytes, CancellationToken cancellationToken)
    {
        var consumed = 0;        // input bytes read by the decoder, from the body's first
        var window = ReadOnlyMemory<byte>.Empty;
        var windowStart = 0;     // body offset of window[0]
        nuint pending = 1;
        while (consumed < compressed.Length || pending != 0)
        {
            if (consumed - windowStart == window.Length && consumed < compressed.Length)
            {
                // The decoder took the whole window: the next one, from the body or its file.
                if (input is null)
                {
                    window = compressed.Memory[consumed..];
                }
                else
                {
                    var read = await compressed.ReadAtAsync(consumed, input.AsMemory(0, ChunkSize), cancellationToken);
                    window = input.AsMemory(0, read);
                }

                windowStart = consumed;
            }

            var (taken, produced, code) = Step(context, window.Span[(consumed - windowStart)..], chunk);
            if (ZSTD_isError(code) != 0)
            {
                return ZSTD_getErrorCode(code) == WindowTooLargeError
                    ? ZstdResult.Fail(413, $"zstd frame needs a window larger than {1 << (MaxWindowLog - 20)} MiB to decompress; compress with a smaller window (level 19 or below)")
                    : ZstdResult.Fail(400, "failed to decompress zstd body");
            }

            if (taken == 0 && produced == 0)
            {
                // No progress with room to write: the input ended mid-frame (the decoder is given
                // input whenever the body has more).
                return ZstdResult.Fail(400, "failed to decompress zstd body");
            }

            consumed += taken;
            pending = code;
            if (produced == 0)
            {
                continue;
            }

            if (produced > maxBytes - output.Length)
            {
                return ZstdResult.Fail(413, $"request body is larger than {maxBytes} bytes once decompressed");
            }

            if (output.Length + produced > RatioGrace && output.Length + produced > (long)consumed * MaxRatio)
            {
                return ZstdResult.Fail(413, $"zstd body expands more than {MaxRatio} times; send it uncompressed");
            }

            await output.AppendAsync(chunk.AsMemory(0, produced), cancellationToken);
        }

        return null;
    }

    /// <summary>One call of ZSTD_decompressStream: input taken, output written to <paramref name="chunk"/>, its return code.</summary>
    private static unsafe (int Taken, int Produced, nuint Code) Step(nint context, ReadOnlySpan<byte> source, byte[] chunk)
    {
        fixed (byte* from = source)
        fixed (byte* to = chunk)
        {
            var input = new Buffer { Data = from, Size = (nuint)source.Length, Position = 0 };
            var target = new Buffer { Data = to, Size = (nuint)ChunkSize, Position = 0 };
            var code = ZSTD_decompressStream(context, &target, &input);
            return ((int)input.Position, (int)target.Position, code);
        }
    }

    // ZSTD_inBuffer and ZSTD_outBuffer share this layout (the input's pointer is const).
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Buffer
    {
        public byte* Data;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Library)]
    private static partial nint ZSTD_createDCtx();

    [LibraryImport(Library)]
    private static partial nuint ZSTD_freeDCtx(nint context);

    [LibraryImport(Library)]
    private static partial nuint ZSTD_DCtx_setParameter(nint context, int parameter, int value);

    [LibraryImport(Library)]
    private static unsafe partial nuint ZSTD_decompressStream(nint context, Buffer* output, Buffer* input);

    [LibraryImport(Library)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    private static partial int ZSTD_getErrorCode(nuint code);
}
