using System.Buffers;

namespace Gollamas.Bodies;

/// <summary>
/// A string or number token too long for <see cref="JsonBodyScan"/>'s window, checked byte by
/// byte exactly as <see cref="System.Text.Json.Utf8JsonReader"/> checks it, so that the reader
/// can be given a short stand-in of the same kind instead: strings hold no raw byte below 0x20
/// and only the escapes <c>\" \\ \/ \b \f \n \r \t \uXXXX</c> (UTF-8 is not validated, as the
/// reader does not); numbers follow RFC 8259's grammar.
/// </summary>
internal struct LongToken
{
    private static readonly SearchValues<byte> s_stringStops = SearchValues.Create(
        [(byte)'"', (byte)'\\', 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
         0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F]);

    private State _state;

    /// <summary>Which kind of token; <see cref="LongTokenKind.None"/> when none is being read.</summary>
    public LongTokenKind Kind { get; private set; }

    /// <summary>Where the token starts in the body.</summary>
    public int Start { get; private set; }

    /// <summary>How many of its bytes have been read.</summary>
    public int Length { get; private set; }

    /// <summary>Whether the token (being read or last read) is a string rather than a number.</summary>
    public bool IsString { get; private set; }

    /// <summary>Whether a number token could end here (after a digit).</summary>
    public readonly bool CanEnd => _state is State.Zero or State.Integer or State.Fraction or State.ExponentDigits;

    /// <summary>Starts a token: <paramref name="first"/> is its first byte, a quote, a minus or a digit.</summary>
    public void Begin(byte first, int start)
    {
        IsString = first == (byte)'"';
        Kind = IsString ? LongTokenKind.String : LongTokenKind.Number;
        Start = start;
        Length = 0;
        _state = IsString ? State.StringOpen : State.NumberStart;
    }

    /// <summary>
    /// Reads the token's next bytes from <paramref name="bytes"/>. Returns how many belong to
    /// it (the rest follow the token; <see cref="Kind"/> is then <see cref="LongTokenKind.None"/>),
    /// or -1 when the bytes make the token invalid.
    /// </summary>
    public int Read(ReadOnlySpan<byte> bytes)
    {
        var used = IsString ? ReadString(bytes) : ReadNumber(bytes);
        if (used > 0)
        {
            Length += used;
        }

        return used;
    }

    /// <summary>Marks the token read to its end (a number ended by the end of the body).</summary>
    public void End() => Kind = LongTokenKind.None;

    private int ReadString(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            switch (_state)
            {
                case State.StringOpen:
                    _state = State.StringText;
                    i++;
                    break;
                case State.StringText:
                    var stop = bytes[i..].IndexOfAny(s_stringStops);
                    if (stop < 0)
                    {
                        return bytes.Length;
                    }

                    i += stop;
                    switch (bytes[i++])
                    {
                        case (byte)'"':
                            Kind = LongTokenKind.None;
                            return i;
                        case (byte)'\\':
                            _state = State.Escape;
                            break;
                        default:
                            return -1;
                    }

                    break;
                case State.Escape:
                    switch (bytes[i++])
                    {
                        case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                            _state = State.StringText;
                            break;
                        case (byte)'u':
                            _state = State.Hex1;
                            break;
                        default:
                            return -1;
                    }

                    break;
                default:
                    if (!char.IsAsciiHexDigit((char)bytes[i++]))
                    {
                        return -1;
                    }

                    _state = _state == State.Hex4 ? State.StringText : _state + 1;
                    break;
            }
        }

        return i;
    }

    private int ReadNumber(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            var b = bytes[i];
            var digit = char.IsAsciiDigit((char)b);
            State next;
            switch (_state)
            {
                case State.NumberStart:
                    next = b == (byte)'-' ? State.Minus : b == (byte)'0' ? State.Zero : digit ? State.Integer : State.Invalid;
                    break;
                case State.Minus:
                    next = b == (byte)'0' ? State.Zero : digit ? State.Integer : State.Invalid;
                    break;
                case State.Zero or State.Integer:
                    if (digit && _state == State.Integer)
                    {
                        i += DigitRun(bytes[i..]);
                        continue;
                    }

                    next = b == (byte)'.' ? State.Dot : b is (byte)'e' or (byte)'E' ? State.Exponent : State.Ended;
                    break;
                case State.Dot:
                    next = digit ? State.Fraction : State.Invalid;
                    break;
                case State.Fraction:
                    if (digit)
                    {
                        i += DigitRun(bytes[i..]);
                        continue;
                    }

                    next = b is (byte)'e' or (byte)'E' ? State.Exponent : State.Ended;
                    break;
                case State.Exponent:
                    next = b is (byte)'+' or (byte)'-' ? State.ExponentSign : digit ? State.ExponentDigits : State.Invalid;
                    break;
                case State.ExponentSign:
                    next = digit ? State.ExponentDigits : State.Invalid;
                    break;
                default:
                    if (digit)
                    {
                        i += DigitRun(bytes[i..]);
                        continue;
                    }

                    next = State.Ended;
                    break;
            }

            if (next == State.Invalid)
            {
                return -1;
            }

            if (next == State.Ended)
            {
                // A byte that could go on a number here but may not ("01", "1.5.", "1e5e") makes it
                // invalid, as the reader finds; any other byte follows the number, for the reader
                // to judge after the stand-in.
                if (digit || b is (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-')
                {
                    return -1;
                }

                Kind = LongTokenKind.None;
                return i;
            }

            _state = next;
            i++;
        }

        return i;
    }

    private static int DigitRun(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        return end < 0 ? bytes.Length : end;
    }

    private enum State
    {
        StringOpen,
        StringText,
        Escape,
        Hex1,
        Hex2,
        Hex3,
        Hex4,
        NumberStart,
        Minus,
        Zero,
        Integer,
        Dot,
        Fraction,
        Exponent,
        ExponentSign,
        ExponentDigits,
        Ended,
        Invalid,
    }
}
