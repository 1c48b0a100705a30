using System.Globalization;

namespace Gollamas.Simulator;

/// <summary>
/// <c>keep_alive</c> as Ollama reads it: a JSON number of seconds, or a Go duration string
/// (<c>"5m"</c>, <c>"1h30m"</c>, <c>"250ms"</c>, <c>"-1"</c>); negative means for ever.
/// </summary>
public static class GoDuration
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(text);
        duration = TimeSpan.Zero;
        var span = text.AsSpan().Trim();
        if (double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare))
        {
            duration = bare < 0 ? TimeSpan.FromSeconds(-1) : TimeSpan.FromSeconds(bare);
            return true;
        }

        var negative = span.StartsWith("-");
        if (negative || span.StartsWith("+"))
        {
            span = span[1..];
        }

        double total = 0;
        while (!span.IsEmpty)
        {
            var digits = 0;
            while (digits < span.Length && (char.IsAsciiDigit(span[digits]) || span[digits] == '.'))
            {
                digits++;
            }

            var units = digits;
            while (units < span.Length && !char.IsAsciiDigit(span[units]) && span[units] != '.')
            {
                units++;
            }

            if (digits == 0 || !double.TryParse(span[..digits], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            double? seconds = span[digits..units] switch
            {
                "ns" => value / 1e9,
                "us" or "µs" => value / 1e6,
                "ms" => value / 1e3,
                "s" => value,
                "m" => value * 60,
                "h" => value * 3600,
                _ => null,
            };
            if (seconds is null)
            {
                return false;
            }

            total += seconds.Value;
            span = span[units..];
        }

        duration = negative ? TimeSpan.FromSeconds(-1) : TimeSpan.FromSeconds(total);
        return true;
    }
}
