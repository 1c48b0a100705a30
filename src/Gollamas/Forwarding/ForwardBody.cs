namespace Gollamas.Forwarding;

/// <summary>
/// The upstream request body: the client's bytes, with at most one range (the model's JSON
/// string token) replaced. Nothing else is re-serialised, so fields the proxy does not know
/// reach Ollama byte for byte.
/// </summary>
internal readonly struct ForwardBody
{
    private readonly ReadOnlyMemory<byte> _body;
    private readonly int _spliceStart;
    private readonly int _spliceLength;
    private readonly ReadOnlyMemory<byte> _replacement;

    public ForwardBody(ReadOnlyMemory<byte> body, int spliceStart, int spliceLength, ReadOnlyMemory<byte> replacement)
    {
        _body = body;
        _spliceStart = spliceStart;
        _spliceLength = spliceLength;
        _replacement = replacement;
    }

    /// <summary>The body forwarded unchanged.</summary>
    public ForwardBody(ReadOnlyMemory<byte> body)
        : this(body, body.Length, 0, ReadOnlyMemory<byte>.Empty)
    {
    }

    public long Length => _body.Length - _spliceLength + _replacement.Length;

    /// <summary>The bytes before the replaced range (all of them when nothing is replaced).</summary>
    public ReadOnlyMemory<byte> Head => _body[.._spliceStart];

    public ReadOnlyMemory<byte> Replacement => _replacement;

    public ReadOnlyMemory<byte> Tail => _body[(_spliceStart + _spliceLength)..];

    /// <summary>Copies the whole body into <paramref name="destination"/>, which holds at least <see cref="Length"/> bytes.</summary>
    public void CopyTo(Span<byte> destination)
    {
        Head.Span.CopyTo(destination);
        _replacement.Span.CopyTo(destination[Head.Length..]);
        Tail.Span.CopyTo(destination[(Head.Length + _replacement.Length)..]);
    }
}
