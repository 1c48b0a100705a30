using System.Runtime.CompilerServices;

namespace Gollamas.Bodies;

/// <summary>
/// Where a value Go will read sits in the body, with its bytes when it is short enough to be
/// one the proxy could have set (a <c>keep_alive</c> or <c>num_ctx</c> token), so a rewrite
/// can tell "already the configured value" without reading the body again. A length of 0
/// means "not set".
/// </summary>
internal readonly struct BodyValue
{
    /// <summary>Values up to this many bytes are kept; longer ones differ from every value the proxy sets.</summary>
    public const int MaxKeptBytes = 24;

    private readonly KeptBytes _bytes;
    private readonly int _keptLength;

    /// <param name="start">The value's first byte in the body.</param>
    /// <param name="length">The value's length in the body, brackets and quotes included.</param>
    /// <param name="bytes">The value's bytes when it has at most <see cref="MaxKeptBytes"/>, else empty.</param>
    public BodyValue(int start, int length, ReadOnlySpan<byte> bytes)
    {
        Start = start;
        Length = length;
        if (bytes.Length == length && length <= MaxKeptBytes)
        {
            bytes.CopyTo(_bytes);
            _keptLength = length;
        }
    }

    public int Start { get; }

    public int Length { get; }

    public bool IsAbsent => Length == 0;

    /// <summary>Whether the value's bytes are exactly <paramref name="value"/>.</summary>
    public bool Is(ReadOnlySpan<byte> value) =>
        _keptLength == Length && Length == value.Length && ((ReadOnlySpan<byte>)_bytes)[..Length].SequenceEqual(value);

    [InlineArray(MaxKeptBytes)]
    private struct KeptBytes
    {
        private byte _first;
    }
}
