using System.Globalization;
using System.Text.Json;

namespace Gollamas.Bodies;

/// <summary>
/// What is wrong with a body that is not JSON, and where, in words of ours. The reader's own
/// message is a resource key in the published binary (<c>ZeroDepthAtEnd, LineNumber: 0 |
/// BytePositionInLine: 9.</c>); this reads the bytes after the last good token instead.
/// </summary>
internal static class JsonSyntaxError
{
    public const string UnexpectedEnd = "unexpected end of JSON input";
    public const string InvalidString = "invalid string (a bad escape, or a control character)";
    public const string InvalidNumber = "invalid number";

    /// <summary>The detail of the 400: what, then the byte offset in the body (from 0).</summary>
    public static string Detail(string what, int offset) =>
        $"{what} at byte offset {offset.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Where the error is in <paramref name="rest"/> (the bytes after the last token the reader
    /// accepted, <paramref name="last"/>, at <paramref name="depth"/>), and what was expected there.
    /// </summary>
    public static (int Offset, string What) Find(ReadOnlySpan<byte> rest, JsonTokenType last, int depth)
    {
        var i = SkipSpace(rest, 0);
        if (i == rest.Length)
        {
            return (i, UnexpectedEnd);
        }

        switch (last)
        {
            case JsonTokenType.StartObject:
                return Name(rest, i, "expected a property name in double quotes, or '}'");
            case JsonTokenType.PropertyName:
                // The reader took the colon with the name.
                return Value(rest, i, "expected a value");
            case JsonTokenType.None:
                return Value(rest, i, "expected a JSON value");
            case JsonTokenType.StartArray:
                return Value(rest, i, "expected a value, or ']'");
        }

        // After a value (or a closing bracket).
        if (depth == 0)
        {
            return (i, "unexpected data after the JSON value");
        }

        if (rest[i] != (byte)',')
        {
            return (i, "expected ',' or a closing bracket");
        }

        i = SkipSpace(rest, i + 1);
        if (i == rest.Length)
        {
            return (i, UnexpectedEnd);
        }

        return rest[i] == (byte)'"' ? Name(rest, i, InvalidString) : Value(rest, i, "expected a value after ','");
    }

    // A string where a property name may be: a bad string, or a good one without its colon.
    private static (int, string) Name(ReadOnlySpan<byte> rest, int i, string otherwise)
    {
        if (rest[i] != (byte)'"')
        {
            return (i, otherwise);
        }

        var close = StringEnd(rest, i);
        if (close < 0)
        {
            return close == RanOut ? (rest.Length, UnexpectedEnd) : (i, InvalidString);
        }

        var next = SkipSpace(rest, close + 1);
        return next < rest.Length && rest[next] != (byte)':' ? (next, "expected ':' after the property name") : (i, InvalidString);
    }

    private static (int, string) Value(ReadOnlySpan<byte> rest, int i, string otherwise) => rest[i] switch
    {
        (byte)'"' when StringEnd(rest, i) == RanOut => (rest.Length, UnexpectedEnd),
        (byte)'"' => (i, InvalidString),
        (byte)'-' or (>= (byte)'0' and <= (byte)'9') => (i, InvalidNumber),
        (byte)'t' or (byte)'f' or (byte)'n' => (i, "invalid literal (true, false or null)"),
        (byte)',' or (byte)'}' or (byte)']' or (byte)':' => (i, otherwise),
        _ => (i, otherwise + " (a string, number, object, array, true, false or null)"),
    };

    private const int Invalid = -1;
    private const int RanOut = -2;

    // The index of the quote closing the string opened at i; Invalid when the string is not valid
    // JSON (a bad escape, a control character), RanOut when it does not end in these bytes. Like
    // the reader, it lets invalid UTF-8 pass (Go's decoder reads it as U+FFFD).
    private static int StringEnd(ReadOnlySpan<byte> rest, int i)
    {
        for (var j = i + 1; j < rest.Length; j++)
        {
            var b = rest[j];
            if (b == (byte)'"')
            {
                return j;
            }

            if (b < 0x20)
            {
                return Invalid;
            }

            if (b != (byte)'\\')
            {
                continue;
            }

            j++;
            if (j == rest.Length)
            {
                return RanOut;
            }

            switch (rest[j])
            {
                case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                    break;
                case (byte)'u':
                    for (var k = 1; k <= 4; k++)
                    {
                        if (j + k == rest.Length)
                        {
                            return RanOut;
                        }

                        if (!char.IsAsciiHexDigit((char)rest[j + k]))
                        {
                            return Invalid;
                        }
                    }

                    j += 4;
                    break;
                default:
                    return Invalid;
            }
        }

        return RanOut;
    }

    private static int SkipSpace(ReadOnlySpan<byte> rest, int i)
    {
        var next = rest[i..].IndexOfAnyExcept(" \t\r\n"u8);
        return next < 0 ? rest.Length : i + next;
    }
}
