using System.Globalization;

namespace Gollamas.Diagnostics;

/// <summary>
/// A duration written as Go's <c>time.Duration.String</c> writes it (so Ollama's users, and its
/// own parser, read it), rounded to the millisecond: <c>0s</c>, <c>250ms</c>, <c>1.25s</c>,
/// <c>1m30.5s</c>, <c>1h0m0s</c>.
/// </summary>
internal static class GoDuration
{
    public static string Format(TimeSpan duration)
    {
        var milliseconds = (long)Math.Round(Math.Max(0, duration.TotalMilliseconds), MidpointRounding.AwayFromZero);
        if (milliseconds == 0)
        {
            return "0s";
        }

        if (milliseconds < 1000)
        {
            return milliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
        }

        var hours = milliseconds / 3_600_000;
        var minutes = milliseconds / 60_000 % 60;
        var seconds = (milliseconds % 60_000 / 1000d).ToString("0.###", CultureInfo.InvariantCulture) + "s";
        return hours > 0
            ? hours.ToString(CultureInfo.InvariantCulture) + "h" + minutes.ToString(CultureInfo.InvariantCulture) + "m" + seconds
            : minutes > 0 ? minutes.ToString(CultureInfo.InvariantCulture) + "m" + seconds : seconds;
    }
}
