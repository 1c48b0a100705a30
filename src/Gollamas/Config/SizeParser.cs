namespace Gollamas.Config;

/// <summary>
/// Reads a size in bytes: a whole number, optionally followed by a unit, <c>KB</c>, <c>MB</c>,
/// <c>GB</c> (powers of 1000) or <c>KiB</c>, <c>MiB</c>, <c>GiB</c> (powers of 1024), in any
/// case and with or without a space before it, as in <c>1048576</c>, <c>500MB</c> or <c>64 MiB</c>.
/// </summary>
/// <remarks>
/// No fractions and no single-letter units: <c>64K</c> means 1000 to some tools and 1024 to
/// others, and a body limit should not depend on which one the operator had in mind.
/// </remarks>
internal static class SizeParser
{
    /// <summary>Parses <paramref name="text"/> exactly as given: white space around it is rejected.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        bytes = 0;
        var s = text.AsSpan();

        var digits = 0;
        while (digits < s.Length && char.IsAsciiDigit(s[digits]))
        {
            digits++;
        }

        if (digits == 0)
        {
            return false;
        }

        long number = 0;
        foreach (var digit in s[..digits])
        {
            var value = digit - '0';
            if (number > (long.MaxValue - value) / 10)
            {
                return false;
            }

            number = (number * 10) + value;
        }

        var unitText = s[digits..];
        if (!unitText.IsEmpty && unitText[0] == ' ')
        {
            unitText = unitText[1..];
            if (unitText.IsEmpty)
            {
                return false;
            }
        }

        if (!TryGetUnit(unitText, out var unit) || number > long.MaxValue / unit)
        {
            return false;
        }

        bytes = number * unit;
        return true;
    }

    private static bool TryGetUnit(ReadOnlySpan<char> unit, out long multiplier)
    {
        multiplier = unit.IsEmpty ? 1
            : unit.Equals("KB", StringComparison.OrdinalIgnoreCase) ? 1_000
            : unit.Equals("MB", StringComparison.OrdinalIgnoreCase) ? 1_000_000
            : unit.Equals("GB", StringComparison.OrdinalIgnoreCase) ? 1_000_000_000
            : unit.Equals("KiB", StringComparison.OrdinalIgnoreCase) ? 1L << 10
            : unit.Equals("MiB", StringComparison.OrdinalIgnoreCase) ? 1L << 20
            : unit.Equals("GiB", StringComparison.OrdinalIgnoreCase) ? 1L << 30
            : 0;
        return multiplier != 0;
    }
}
