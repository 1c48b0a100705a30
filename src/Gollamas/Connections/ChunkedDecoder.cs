using System.Buffers.Text;

namespace Gollamas.Connections;

/// <summary>
/// Strips chunked framing (RFC 9112 §7.1) from a response body, a state machine fed whatever
/// bytes have arrived, as Kestrel's <c>Http1ChunkedEncodingMessageBody</c> is for requests:
/// size line (extensions ignored), data, CRLF, and after the last chunk the trailer section,
/// read and dropped. Pure code over spans; one per connection, reset for each response.
/// </summary>
internal sealed class ChunkedDecoder
{
    /// <summary>The longest size or trailer line taken, CRLF excluded.</summary>
    public const int MaxLineBytes = 4096;

    // 15 hex digits: up to 2^60 - 1, far beyond any body, and no overflow of a long.
    private const int MaxSizeDigits = 15;

    private State _state;
    private long _remaining;

    private enum State
    {
        Size,
        Data,
        DataEnd,
        Trailer,
        Done,
    }

    /// <summary>Whether the last chunk and the trailer section have been read: the body ended.</summary>
    public bool IsComplete => _state == State.Done;

    /// <summary>Starts on a new body.</summary>
    public void Reset()
    {
        _state = State.Size;
        _remaining = 0;
    }

    /// <summary>
    /// Decodes from <paramref name="source"/> into <paramref name="destination"/> and returns the
    /// data bytes written; <paramref name="consumed"/> is how many source bytes were used. Stops
    /// when the source holds no complete step more, the destination is full, or the body ended
    /// (<see cref="IsComplete"/>); bytes after the end are left unconsumed. Invalid framing throws
    /// <see cref="UpstreamProtocolException"/>, but only from a call that wrote nothing: data
    /// decoded before it is handed over first (it came whole: in a stream, the last good record
    /// before the in-band error), and the next call, starting at the bad bytes, throws.
    /// </summary>
    public int Decode(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed)
    {
        var written = 0;
        consumed = 0;
        try
        {
            Decode(source, destination, ref consumed, ref written);
        }
        catch (UpstreamProtocolException) when (written > 0)
        {
        }

        return written;
    }

    private void Decode(ReadOnlySpan<byte> source, Span<byte> destination, ref int consumed, ref int written)
    {
        while (consumed < source.Length && _state != State.Done)
        {
            var rest = source[consumed..];
            switch (_state)
            {
                case State.Size:
                {
                    if (!TryTakeLine(rest, out var line))
                    {
                        return;
                    }

                    _remaining = ParseChunkSize(line);
                    consumed += line.Length + 2;
                    _state = _remaining == 0 ? State.Trailer : State.Data;
                    break;
                }

                case State.Data:
                {
                    if (written == destination.Length)
                    {
                        return;
                    }

                    var count = (int)Math.Min(Math.Min(rest.Length, destination.Length - written), _remaining);
                    rest[..count].CopyTo(destination[written..]);
                    written += count;
                    consumed += count;
                    _remaining -= count;
                    if (_remaining == 0)
                    {
                        _state = State.DataEnd;
                    }

                    break;
                }

                case State.DataEnd:
                {
                    if (rest.Length < 2)
                    {
                        if (rest[0] != (byte)'\r')
                        {
                            throw new UpstreamProtocolException("chunk data not followed by CRLF");
                        }

                        return;
                    }

                    if (rest[0] != (byte)'\r' || rest[1] != (byte)'\n')
                    {
                        throw new UpstreamProtocolException("chunk data not followed by CRLF");
                    }

                    consumed += 2;
                    _state = State.Size;
                    break;
                }

                case State.Trailer:
                {
                    // Trailer fields are read and dropped: the client's response has no trailers
                    // to carry them, and Ollama sends none.
                    if (!TryTakeLine(rest, out var line))
                    {
                        return;
                    }

                    consumed += line.Length + 2;
                    if (line.IsEmpty)
                    {
                        _state = State.Done; // the empty line after the (usually absent) trailer fields
                    }

                    break;
                }
            }
        }
    }

    /// <summary>The line before the next CRLF; false while it has not arrived whole.</summary>
    private static bool TryTakeLine(ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> line)
    {
        var end = rest.IndexOf("\r\n"u8);

        // The limit holds whether or not the line's end has arrived yet, so it does not depend
        // on how the bytes were split across reads.
        if (end > MaxLineBytes || (end < 0 && rest.Length > MaxLineBytes + 1))
        {
            throw new UpstreamProtocolException("chunk size or trailer line longer than 4 KiB");
        }

        line = end < 0 ? default : rest[..end];
        return end >= 0;
    }

    private static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        // chunk-size [ BWS ";" chunk-ext ]: white space is taken before an extension or the
        // line's end, never before the digits; extensions are not read.
        var extension = line.IndexOf((byte)';');
        var digits = (extension >= 0 ? line[..extension] : line).TrimEnd(" \t"u8);
        if (digits.IsEmpty || digits.Length > MaxSizeDigits || !Utf8Parser.TryParse(digits, out long size, out var consumed, 'x') || consumed != digits.Length)
        {
            throw new UpstreamProtocolException("invalid chunk size");
        }

        return size;
    }
}
