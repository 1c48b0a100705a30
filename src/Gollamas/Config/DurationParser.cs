namespace Gollamas.Config;

/// <summary>
/// Reads durations the way Ollama does (Go's <c>time.ParseDuration</c>): an optional sign, then
/// one or more decimal numbers, each with an optional fraction and a unit (<c>ns</c>, <c>us</c>,
/// <c>µs</c>, <c>μs</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>), as in <c>250ms</c>,
/// <c>1h30m</c> or <c>1.5h</c>; <c>0</c> alone needs no unit. Unlike Go, a bare number is
/// seconds (<c>300</c>, <c>1.5</c>), so a plain count of seconds works as well.
/// </summary>
/// <remarks>
/// A port of Go's src/time/format.go <c>ParseDuration</c>: the value is accumulated in
/// nanoseconds with the same overflow limits (about 292 years), so a string Go rejects is
/// rejected here too. The result is truncated to <see cref="TimeSpan"/>'s 100 ns ticks.
/// </remarks>
internal static class DurationParser
{
    private const ulong Nanosecond = 1;
    private const ulong Microsecond = 1_000 * Nanosecond;
    private const ulong Millisecond = 1_000 * Microsecond;
    private const ulong Second = 1_000 * Millisecond;
    private const ulong Minute = 60 * Second;
    private const ulong Hour = 60 * Minute;
    private const ulong NanosecondsPerTick = 100;

    // 1 << 63: the magnitude of Go's most negative Duration; positive ones stop one below.
    private const ulong Limit = 1UL << 63;

    /// <summary>Parses <paramref name="text"/> exactly as given: white space anywhere is rejected.</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        ArgumentNullException.ThrowIfNull(text);
        value = TimeSpan.Zero;
        var s = text.AsSpan();

        var negative = false;
        if (!s.IsEmpty && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s is "0")
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return false;
        }

        ulong total = 0;
        var first = true;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                return false;
            }

            var length = s.Length;
            if (!TryReadInteger(ref s, out var whole))
            {
                return false;
            }

            var hasWhole = length != s.Length;

            ulong fraction = 0;
            double scale = 1;
            var hasFraction = false;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                length = s.Length;
                ReadFraction(ref s, out fraction, out scale);
                hasFraction = length != s.Length;
            }

            if (!hasWhole && !hasFraction)
            {
                return false;
            }

            var unitLength = 0;
            while (unitLength < s.Length && s[unitLength] != '.' && !char.IsAsciiDigit(s[unitLength]))
            {
                unitLength++;
            }

            ulong unit;
            if (unitLength == 0)
            {
                // Go demands a unit; gollamas reads a number that is the whole value as seconds.
                if (!first || !s.IsEmpty)
                {
                    return false;
                }

                unit = Second;
            }
            else if (!TryGetUnit(s[..unitLength], out unit))
            {
                return false;
            }

            s = s[unitLength..];
            if (whole > Limit / unit)
            {
                return false;
            }

            whole *= unit;
            if (fraction > 0)
            {
                // As Go: a double keeps fractions of an hour exact to the nanosecond.
                whole += (ulong)(fraction * (unit / scale));
                if (whole > Limit)
                {
                    return false;
                }
            }

            total += whole;
            if (total > Limit)
            {
                return false;
            }

            first = false;
        }

        if (!negative && total > Limit - 1)
        {
            return false;
        }

        var ticks = (long)(total / NanosecondsPerTick);
        value = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }

    private static bool TryGetUnit(ReadOnlySpan<char> unit, out ulong nanoseconds)
    {
        nanoseconds = unit switch
        {
            "ns" => Nanosecond,
            "us" or "\u00B5s" or "\u03BCs" => Microsecond,
            "ms" => Millisecond,
            "s" => Second,
            "m" => Minute,
            "h" => Hour,
            _ => 0,
        };
        return nanoseconds != 0;
    }

    // Go's leadingInt: the leading digits, failing on overflow.
    private static bool TryReadInteger(ref ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (value > Limit / 10)
            {
                return false;
            }

            value = (value * 10) + (ulong)(s[i] - '0');
            if (value > Limit)
            {
                return false;
            }
        }

        s = s[i..];
        return true;
    }

    // Go's leadingFraction: the leading digits after the point; past what fits it stops adding
    // precision instead of failing.
    private static void ReadFraction(ref ReadOnlySpan<char> s, out ulong value, out double scale)
    {
        value = 0;
        scale = 1;
        var overflow = false;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (overflow)
            {
                continue;
            }

            if (value > (Limit - 1) / 10)
            {
                overflow = true;
                continue;
            }

            var next = (value * 10) + (ulong)(s[i] - '0');
            if (next > Limit)
            {
                overflow = true;
                continue;
            }

            value = next;
            scale *= 10;
        }

        s = s[i..];
    }
}
