using System.Globalization;

namespace Gollamas.Config;

/// <summary>
/// The value forms settings share: booleans, counts, durations, sizes, file paths and
/// <c>KEY=VALUE</c> list items. Each reports a bad value as one <see cref="ConfigError"/> naming
/// its flag or variable, and then returns a value of no use (the options are discarded).
/// </summary>
internal static class ValueParsers
{
    private const string DurationForm = "(expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)";

    // The runtime's timers (PeriodicTimer, CancelAfter, Task.Delay) throw for periods under 1 ms
    // or over 2^32-2 ms (about 49 days), so a duration outside these bounds would pass here and
    // fail only when a probe or a queued request first uses it.
    private static readonly TimeSpan MinimumDuration = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaximumDuration = TimeSpan.FromHours(1000);
    private const string DurationRange = "out of range (expected 1ms to 1000h)";
    private const string DurationOrZeroRange = "out of range (expected 0 for none, or 1ms to 1000h)";

    private const string SizeForm = "(expected e.g. 64MiB, 500MB, or a number of bytes)";

    /// <summary>A boolean word; absent or blank is false.</summary>
    public static bool Boolean(ConfigEntry? entry, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (entry is not { } given)
        {
            return false;
        }

        switch (given.Value.Trim().ToUpperInvariant())
        {
            case "" or "FALSE" or "0" or "NO" or "OFF":
                return false;
            case "TRUE" or "1" or "YES" or "ON":
                return true;
            default:
                errors.Add(new ConfigError(given.Source, given.Value, "not a boolean (expected true/false, 1/0, yes/no or on/off)"));
                return false;
        }
    }

    /// <summary>A count of at least <paramref name="minimum"/>; <paramref name="reason"/> says what a bad one should have been.</summary>
    public static int WholeNumber(ConfigEntry? entry, int minimum, string reason, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (entry is not { } given)
        {
            return 0;
        }

        if (!TryParseWholeNumber(given.Value.AsSpan().Trim(), minimum, out var value))
        {
            errors.Add(new ConfigError(given.Source, given.Value, reason));
            return 0;
        }

        return value;
    }

    /// <summary>Digits only: no sign, no group separators, nothing past int.MaxValue.</summary>
    public static bool TryParseWholeNumber(ReadOnlySpan<char> text, int minimum, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= minimum;

    /// <summary>
    /// A duration from 1ms to 1000h, as Ollama reads one (<see cref="DurationParser"/>); with
    /// <paramref name="zeroMeansNone"/>, also a zero as written. Absent is zero.
    /// </summary>
    public static TimeSpan Duration(ConfigEntry? entry, List<ConfigError> errors, bool zeroMeansNone = false)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (entry is not { } given)
        {
            return TimeSpan.Zero;
        }

        if (!DurationParser.TryParse(given.Value.Trim(), out var value))
        {
            errors.Add(new ConfigError(given.Source, given.Value, $"invalid duration {DurationForm}"));
            return TimeSpan.Zero;
        }

        if (zeroMeansNone && value == TimeSpan.Zero && !TruncatedToZero(given.Value, value))
        {
            return value;
        }

        if (value < MinimumDuration || value > MaximumDuration)
        {
            errors.Add(new ConfigError(given.Source, given.Value, zeroMeansNone ? DurationOrZeroRange : DurationRange));
            return TimeSpan.Zero;
        }

        return value;
    }

    /// <summary>
    /// Whether <paramref name="value"/>, read from <paramref name="text"/>, is zero only because
    /// it is shorter than a tick (50ns): only a zero as written means "none" or "unload".
    /// </summary>
    public static bool TruncatedToZero(string text, TimeSpan value)
    {
        ArgumentNullException.ThrowIfNull(text);
        return value == TimeSpan.Zero && text.Any(static c => c is >= '1' and <= '9');
    }

    /// <summary>A size (<see cref="SizeParser"/>) from <paramref name="minimum"/> to <paramref name="maximum"/> bytes; <paramref name="range"/> says them.</summary>
    public static long Size(ConfigEntry? entry, long minimum, long maximum, string range, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (entry is not { } given)
        {
            return 0;
        }

        if (!SizeParser.TryParse(given.Value.Trim(), out var value))
        {
            errors.Add(new ConfigError(given.Source, given.Value, $"invalid size {SizeForm}"));
            return 0;
        }

        if (value < minimum || value > maximum)
        {
            errors.Add(new ConfigError(given.Source, given.Value, range));
            return 0;
        }

        return value;
    }

    /// <summary>
    /// The path of a file the proxy can read, kept as given; absent is null. Checked at start so
    /// that a typo fails here, in one line, rather than when the server first loads the
    /// certificate or re-reads the key file on SIGHUP.
    /// </summary>
    public static string? ReadableFile(ConfigEntry? entry, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (entry is not { } given)
        {
            return null;
        }

        var path = given.Value.Trim();
        string? problem = null;
        if (path.Length == 0)
        {
            problem = "empty path (expected a file)";
        }
        else if (Directory.Exists(path))
        {
            problem = "is a directory (expected a file)";
        }
        else if (!File.Exists(path))
        {
            problem = "no such file";
        }
        else
        {
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            }
            catch (UnauthorizedAccessException)
            {
                problem = "file not readable (permission denied)";
            }
            catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
            {
                problem = "no such file"; // removed between the check and the open
            }
            catch (IOException)
            {
                // The runtime's message is a resource key in the published build.
                problem = "file not readable (an I/O error)";
            }
        }

        if (problem is not null)
        {
            errors.Add(new ConfigError(given.Source, given.Value, problem));
            return null;
        }

        return path;
    }

    /// <summary>
    /// Splits a <c>LEFT=RIGHT</c> list item at its first '=', both sides trimmed and required;
    /// <paramref name="form"/> ("(expected ID=URL)") and the sides' names word the errors.
    /// </summary>
    public static bool TrySplitPair(
        ConfigEntry entry,
        string form,
        string leftName,
        string rightName,
        List<ConfigError> errors,
        out string left,
        out string right)
    {
        ArgumentNullException.ThrowIfNull(errors);
        left = right = "";
        var text = entry.Value.AsSpan().Trim();
        if (text.IsEmpty)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"empty entry {form}"));
            return false;
        }

        var equals = text.IndexOf('=');
        if (equals < 0)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"missing '=' {form}"));
            return false;
        }

        left = text[..equals].Trim().ToString();
        right = text[(equals + 1)..].Trim().ToString();
        if (left.Length == 0)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"empty {leftName} {form}"));
            return false;
        }

        if (right.Length == 0)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"empty {rightName} {form}"));
            return false;
        }

        return true;
    }
}
