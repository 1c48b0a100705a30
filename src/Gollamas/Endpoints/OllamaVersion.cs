using System.Globalization;

namespace Gollamas.Endpoints;

/// <summary>
/// A server version compared as semantic versions (<c>0.10.0</c> &gt; <c>0.9.6</c>; a
/// pre-release such as <c>0.10.0-rc1</c> sorts before its release), not as strings.
/// </summary>
internal readonly record struct OllamaVersion(int Major, int Minor, int Patch, string PreRelease, string Text) : IComparable<OllamaVersion>
{
    public static bool TryParse(string? text, out OllamaVersion version)
    {
        version = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var core = text.Trim();
        if (core.StartsWith('v'))
        {
            core = core[1..];
        }

        var build = core.IndexOf('+', StringComparison.Ordinal);
        if (build >= 0)
        {
            core = core[..build];
        }

        var preRelease = string.Empty;
        var dash = core.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            preRelease = core[(dash + 1)..];
            core = core[..dash];
        }

        var parts = core.Split('.');
        if (parts.Length is < 1 or > 3)
        {
            return false;
        }

        Span<int> numbers = stackalloc int[3];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return false;
            }
        }

        version = new OllamaVersion(numbers[0], numbers[1], numbers[2], preRelease, text.Trim());
        return true;
    }

    public int CompareTo(OllamaVersion other)
    {
        var result = Major.CompareTo(other.Major);
        if (result == 0)
        {
            result = Minor.CompareTo(other.Minor);
        }

        if (result == 0)
        {
            result = Patch.CompareTo(other.Patch);
        }

        if (result != 0)
        {
            return result;
        }

        return (PreRelease.Length == 0, other.PreRelease.Length == 0) switch
        {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => -1,
            _ => ComparePreRelease(PreRelease, other.PreRelease),
        };
    }

    // Semantic Versioning 2.0.0 §11.4: dot-separated identifiers compared left to right; numeric
    // ones numerically (rc.2 < rc.10) and below alphanumeric ones, which compare in ASCII order;
    // a shorter list that is a prefix of the longer one sorts first.
    private static int ComparePreRelease(string left, string right)
    {
        var leftParts = left.Split('.');
        var rightParts = right.Split('.');
        for (var i = 0; i < Math.Min(leftParts.Length, rightParts.Length); i++)
        {
            var leftIsNumber = ulong.TryParse(leftParts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var leftNumber);
            var rightIsNumber = ulong.TryParse(rightParts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var rightNumber);
            var result = (leftIsNumber, rightIsNumber) switch
            {
                (true, true) => leftNumber.CompareTo(rightNumber),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(leftParts[i], rightParts[i]),
            };
            if (result != 0)
            {
                return result;
            }
        }

        return leftParts.Length.CompareTo(rightParts.Length);
    }

    public static bool operator <(OllamaVersion left, OllamaVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(OllamaVersion left, OllamaVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(OllamaVersion left, OllamaVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(OllamaVersion left, OllamaVersion right) => left.CompareTo(right) >= 0;
}
