using System.Net;

namespace Gollamas.Forwarding;

/// <summary>
/// The upstream request body: the client's bytes, with at most one range (the model's JSON
/// string token) replaced. Nothing else is re-serialised, so fields the proxy does not know
/// reach Ollama byte for byte.
/// </summary>
internal sealed class SplicedContent : HttpContent
{
    private readonly ReadOnlyMemory<byte> _body;
    private readonly int _spliceStart;
    private readonly int _spliceLength;
    private readonly ReadOnlyMemory<byte> _replacement;

    public SplicedContent(ReadOnlyMemory<byte> body, int spliceStart, int spliceLength, ReadOnlyMemory<byte> replacement)
    {
        _body = body;
        _spliceStart = spliceStart;
        _spliceLength = spliceLength;
        _replacement = replacement;
    }

    /// <summary>The body forwarded unchanged.</summary>
    public SplicedContent(ReadOnlyMemory<byte> body)
        : this(body, body.Length, 0, ReadOnlyMemory<byte>.Empty)
    {
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(_body[.._spliceStart], cancellationToken);
        if (!_replacement.IsEmpty)
        {
            await stream.WriteAsync(_replacement, cancellationToken);
        }

        var tail = _body[(_spliceStart + _spliceLength)..];
        if (!tail.IsEmpty)
        {
            await stream.WriteAsync(tail, cancellationToken);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length - _spliceLength + _replacement.Length;
        return true;
    }
}
