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

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_compressBound(nuint sourceSize);

    [LibraryImport("libzstd.so.1")]
    private static partial nuint ZSTD_compress(byte[] destination, nuint capacity, byte[] source, nuint size, int level);

    [LibraryImport("libzstd.so.1")]
    private static partial uint ZSTD_isError(nuint code);
}
