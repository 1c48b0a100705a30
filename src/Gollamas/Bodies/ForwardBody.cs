using System.Runtime.CompilerServices;

namespace Gollamas.Bodies;

/// <summary>
/// The upstream request body: the client's bytes with ranges replaced, inserted or removed (the
/// model token for an alias, the fields of the model's rules). Nothing else is re-serialised, so
/// fields the proxy does not know reach Ollama byte for byte. A value type with up to
/// <see cref="MaxSplices"/> splices inline: building one with that many allocates nothing; past
/// them (a model with many rules) the splices move to an array of their own.
/// </summary>
/// <remarks>
/// The body reads as segments: the client's bytes up to the first splice, its replacement, the
/// bytes up to the next splice, and so on, ending with the bytes after the last one. Splices are
/// kept sorted by position; insertions at the same position keep the order they were added in.
/// Over a body in a temporary file (<see cref="RequestBodyBuffer.IsSpooled"/>) the runs of the
/// client's bytes are ranges of that file (<see cref="GetRange"/>), read when they are written.
/// </remarks>
internal readonly struct ForwardBody
{
    /// <summary>The most splices one body holds inline: the model, <c>keep_alive</c> and <c>num_ctx</c>.</summary>
    public const int MaxSplices = 3;

    private readonly ReadOnlyMemory<byte> _original;
    // The file-backed body (a RequestBodyBuffer), or, past the inline splices, a Spilled holding
    // it and every splice: one field for both, so the struct (copied into every async state
    // machine that forwards it) is no larger than with the inline splices alone.
    private readonly object? _spooledOrSpilled;
    private readonly int _originalLength;
    private readonly SpliceArray _splices;
    private readonly int _count;

    /// <summary>The body forwarded unchanged.</summary>
    public ForwardBody(ReadOnlyMemory<byte> original)
    {
        _original = original;
        _originalLength = original.Length;
    }

    /// <summary>The client's body, where it lies: in memory, or in its temporary file.</summary>
    public ForwardBody(RequestBodyBuffer body)
    {
        if (body.IsSpooled)
        {
            _spooledOrSpilled = body;
        }
        else
        {
            _original = body.Memory;
        }

        _originalLength = body.Length;
    }

    /// <summary>The body with the <paramref name="spliceLength"/> bytes at <paramref name="spliceStart"/> replaced.</summary>
    public ForwardBody(ReadOnlyMemory<byte> original, int spliceStart, int spliceLength, ReadOnlyMemory<byte> replacement)
        : this(original)
    {
        this = WithSplice(spliceStart, spliceLength, replacement);
    }

    private ForwardBody(in ForwardBody body, in SpliceArray splices, BodySplice[]? more, int count)
    {
        _original = body._original;
        _spooledOrSpilled = more is null ? body.Spooled : new Spilled(body.Spooled, more);
        _originalLength = body._originalLength;
        _splices = splices;
        _count = count;
    }

    /// <summary>The client's bytes, before any splice; empty when they are in a file (<see cref="Spooled"/>).</summary>
    public ReadOnlyMemory<byte> Original => _original;

    /// <summary>The file-backed body whose bytes this body forwards; null when they are in memory.</summary>
    public RequestBodyBuffer? Spooled => _spooledOrSpilled as RequestBodyBuffer ?? (_spooledOrSpilled as Spilled)?.Spooled;

    /// <summary>How many bytes the client sent.</summary>
    public int OriginalLength => _originalLength;

    public int SpliceCount => _count;

    public long Length
    {
        get
        {
            long length = _originalLength;
            for (var i = 0; i < _count; i++)
            {
                var splice = Splice(i);
                length += splice.Replacement.Length - splice.Length;
            }

            return length;
        }
    }

    /// <summary>How many segments <see cref="GetSegment"/> returns: one more than twice the splices (some may be empty).</summary>
    public int SegmentCount => (2 * _count) + 1;

    /// <summary>
    /// Segment <paramref name="index"/> of the forwarded body: even indexes are runs of the
    /// client's bytes, odd ones the replacements. Written in order they are the whole body.
    /// </summary>
    public ReadOnlyMemory<byte> GetSegment(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)SegmentCount, nameof(index));
        if ((index & 1) != 0)
        {
            return Splice(index / 2).Replacement;
        }

        if (Spooled is not null)
        {
            ThrowSpooled();
        }

        var (start, length) = GetRange(index);
        return _original.Slice(start, length);
    }

    /// <summary>
    /// Where the client's bytes of segment <paramref name="index"/> (an even one) lie in the
    /// client's body: the range to read from the file of a <see cref="Spooled"/> body.
    /// </summary>
    public (int Start, int Length) GetRange(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)SegmentCount, nameof(index));
        if ((index & 1) != 0)
        {
            throw new ArgumentException("Odd segments are replacements, not ranges of the client's body.", nameof(index));
        }

        var splice = index / 2;
        var start = splice == 0 ? 0 : Splice(splice - 1).End;
        var end = splice == _count ? _originalLength : Splice(splice).Start;
        return (start, end - start);
    }

    /// <summary>Copies the whole body into <paramref name="destination"/>, which holds at least <see cref="Length"/> bytes.</summary>
    public void CopyTo(Span<byte> destination)
    {
        var written = 0;
        var spooled = Spooled;
        for (var i = 0; i < SegmentCount; i++)
        {
            if (spooled is not null && (i & 1) == 0)
            {
                var (start, length) = GetRange(i);
                written += spooled.ReadAt(start, destination.Slice(written, length));
                continue;
            }

            var segment = GetSegment(i).Span;
            segment.CopyTo(destination[written..]);
            written += segment.Length;
        }
    }

    /// <summary>
    /// This body with one more splice: the <paramref name="length"/> bytes of the client's body
    /// at <paramref name="start"/> replaced by <paramref name="replacement"/> (inserted when
    /// <paramref name="length"/> is 0). Splices must not overlap; an insertion may touch a
    /// replaced range at either end.
    /// </summary>
    public ForwardBody WithSplice(int start, int length, ReadOnlyMemory<byte> replacement)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)start, (uint)_originalLength, nameof(start));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)(_originalLength - start), nameof(length));
        if (length == 0 && replacement.IsEmpty)
        {
            return this;
        }

        if (_count < MaxSplices)
        {
            var inline = _splices;
            Insert(inline, _count, new BodySplice(start, length, replacement));
            return new ForwardBody(this, inline, null, _count + 1);
        }

        // Past the inline ones: a new array each time, as a ForwardBody is a value that copies
        // share (one body gets a handful of splices, once per request).
        var more = new BodySplice[_count + 1];
        for (var i = 0; i < _count; i++)
        {
            more[i] = Splice(i);
        }

        Insert(more, _count, new BodySplice(start, length, replacement));
        return new ForwardBody(this, default, more, _count + 1);
    }

    private BodySplice Splice(int index) => _spooledOrSpilled is Spilled spilled ? spilled.Splices[index] : _splices[index];

    /// <summary>
    /// Insertion sort by (start, end), stable: an insertion sorts before a range that starts at
    /// the same place, and insertions at one place stay in the order they came.
    /// </summary>
    private static void Insert(Span<BodySplice> splices, int count, BodySplice splice)
    {
        var at = count;
        while (at > 0 && (splices[at - 1].Start > splice.Start || (splices[at - 1].Start == splice.Start && splices[at - 1].End > splice.End)))
        {
            splices[at] = splices[at - 1];
            at--;
        }

        if ((at > 0 && splices[at - 1].End > splice.Start) || (at < count && splice.End > splices[at + 1].Start))
        {
            ThrowOverlap("start");
        }

        splices[at] = splice;
    }

    private static void ThrowSpooled() =>
        throw new InvalidOperationException("The client's bytes are in a file: read them by GetRange.");

    private static void ThrowOverlap(string paramName) =>
        throw new ArgumentException("The splice overlaps one the body already has.", paramName);

    /// <summary>A body's splices past <see cref="MaxSplices"/>, all of them, with its file if it has one.</summary>
    private sealed record Spilled(RequestBodyBuffer? Spooled, BodySplice[] Splices);

    [InlineArray(MaxSplices)]
    private struct SpliceArray
    {
        private BodySplice _element;
    }
}
