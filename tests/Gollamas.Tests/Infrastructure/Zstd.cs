using System.Runtime.InteropServices;
using System.Text;

namespace Gollamas.Tests.Infrastructure;

/// <summary>zstd compression for test bodies, with the system's libzstd (the library the proxy decompresses with).</summary>
internal static partial class Zstd
{
    /// <summary><paramref name="text"/> in UTF-8, as one zstd frame.</summary>
    public static byte[] Compress(string text)
    {
        var source = Encoding.UTF8.GetBytes(text);
        var destination = new byte[(int)ZSTD_compressBound((nuint)source.Length)];
        var written = ZSTD_compress(destination, (nuint)destination.Length, source, (nuint)source.Length, 3);
        ZSTD_isError(written).Should().Be(0u);
        return destination[..(int)written];
    }

    /// <summary>
    /// <paramref name="source"/> as one zstd frame whose decoder must keep a window of
    /// 2^<paramref name="windowLog"/> bytes (zstd shrinks it to the content's size, so give
    /// at least that much content).
    /// </summary>
    public static byte[] Compress(byte[] source, int windowLog = 0)
    {
        var destination = new byte[(int)ZSTD_compressBound((nuint)source.Length)];
        var context = ZSTD_createCCtx();
        try
        {
            if (windowLog > 0)
            {
                ZSTD_isError(ZSTD_CCtx_setParameter(context, WindowLogParameter, windowLog)).Should().Be(0u);
            }

            var written = ZSTD_compress2(context, destination, (nuint)destination.Length, source, (nuint)source.Length);
            ZSTD_isError(written).Should().Be(0u);
            return destination[..(int)written];
        }
        finally
        {
            ZSTD_freeCCtx(context);
        }
    }

    // ZSTD_cParameter ZSTD_c_windowLog.
    private const int WindowLogParameter = 101;

    [LibraryImport("libzstd.so.1")]
    private static partial nint ZSTD_createCCtx();

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_freeCCtx(nint context);

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_CCtx_setParameter(nint context, int parameter, int value);

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_compress2(nint context, byte[] destination, nuint capacity, byte[] source, nuint size);

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_compressBound(nuint sourceSize);

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_compress(byte[] destination, nuint capacity, byte[] source, nuint size, int level);

    [LibraryImport("libzstd.so.1")]
    private static partial uint ZSTD_isError(nuint code);
}
