using System.Buffers;
using System.Runtime.InteropServices;

namespace Gollamas.Forwarding;

/// <summary>
/// Reads request bodies sent with <c>Content-Encoding: zstd</c>, which Ollama accepts on
/// <c>/v1/responses</c> (some agent clients compress): the model can only be found in the
/// decompressed JSON. Uses the system's libzstd (Debian/Ubuntu: libzstd1), loaded on the first
/// such body, so a proxy that never sees one never needs it.
/// </summary>
internal static unsafe partial class ZstdBody
{
    private const string Library = "libzstd.so.1";
    private const int MinOutputSize = 64 * 1024;

    /// <summary>Whether the body is zstd-compressed, by its Content-Encoding.</summary>
    public static bool IsZstd(string? contentEncoding) =>
        contentEncoding is not null && contentEncoding.Trim().Equals("zstd", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Decompresses every frame of <paramref name="compressed"/> into pooled memory, at most
    /// <paramref name="maxBytes"/> of it. On failure, <paramref name="status"/> and
    /// <paramref name="problem"/> say what to answer: 400 for a body that is not valid zstd (Ollama's
    /// wording), 413 for one that decompresses past the limit, 415 when libzstd is not installed.
    /// </summary>
    public static RequestBodyBuffer? TryDecompress(ReadOnlySpan<byte> compressed, long maxBytes, out int status, out string? problem)
    {
        try
        {
            return Decompress(compressed, (int)Math.Min(maxBytes, Array.MaxLength), out status, out problem);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            status = 415;
            problem = $"gollamas cannot read zstd-compressed bodies here: {Library} is not installed (Debian/Ubuntu: libzstd1); send the body uncompressed";
            return null;
        }
    }

    private static RequestBodyBuffer? Decompress(ReadOnlySpan<byte> compressed, int limit, out int status, out string? problem)
    {
        var context = ZSTD_createDCtx();
        if (context == 0)
        {
            status = 500;
            problem = "gollamas: libzstd could not allocate a decompression context";
            return null;
        }

        var output = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max((long)compressed.Length * 4, MinOutputSize), limit));
        var written = 0;
        try
        {
            fixed (byte* source = compressed)
            {
                var input = new Buffer { Data = source, Size = (nuint)compressed.Length, Position = 0 };
                nuint pending = 1;
                while (input.Position < input.Size || pending != 0)
                {
                    if (written == output.Length)
                    {
                        if (written >= limit)
                        {
                            status = 413;
                            problem = $"request body is larger than {limit} bytes once decompressed";
                            return Fail(output);
                        }

                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)output.Length * 2, limit));
                        output.AsSpan(0, written).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(output);
                        output = larger;
                    }

                    var before = (input.Position, written);
                    fixed (byte* destination = output)
                    {
                        var target = new Buffer { Data = destination, Size = (nuint)output.Length, Position = (nuint)written };
                        pending = ZSTD_decompressStream(context, &target, &input);
                        written = (int)target.Position;
                    }

                    if (ZSTD_isError(pending) != 0 || (before == (input.Position, written) && written < output.Length))
                    {
                        // An error, or no progress with room to write: the input ended mid-frame.
                        status = 400;
                        problem = "failed to decompress zstd body";
                        return Fail(output);
                    }
                }
            }

            status = 200;
            problem = null;
            return RequestBodyBuffer.FromPooled(output, written);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(output);
            throw;
        }
        finally
        {
            ZSTD_freeDCtx(context);
        }
    }

    private static RequestBodyBuffer? Fail(byte[] output)
    {
        ArrayPool<byte>.Shared.Return(output);
        return null;
    }

    // ZSTD_inBuffer and ZSTD_outBuffer share this layout (the input's pointer is const).
    [StructLayout(LayoutKind.Sequential)]
    private struct Buffer
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
    private static partial nuint ZSTD_decompressStream(nint context, Buffer* output, Buffer* input);

    [LibraryImport(Library)]
    private static partial uint ZSTD_isError(nuint code);
}
