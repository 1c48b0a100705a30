namespace Gollamas.Diagnostics;

/// <summary>
/// Request ids: the client's <c>X-Request-Id</c> when it is sane, else one of the proxy's own.
/// Sane means 1 to <see cref="MaxLength"/> characters, each visible ASCII (0x21 to 0x7E) but the
/// double quote, the single quote and the backslash: it can go into a log line, a header and a
/// JSON string as it is, and nothing a client sends reaches a log raw. The proxy's own are a
/// prefix drawn at random once per process and a counter (<c>3f9c2a7e41d0b856-1a</c>): unique
/// within the process, unlikely to meet another process's, and one small string per request.
/// </summary>
internal static class RequestId
{
    /// <summary>The longest id taken from a client.</summary>
    public const int MaxLength = 128;

    // Not a secret, only unlikely to repeat: Random.Shared, not RandomNumberGenerator, which loads
    // OpenSSL (the binary needs only glibc; without libssl the runtime would abort the process).
    private static readonly string s_prefix = Random.Shared.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + "-";
    private static long s_counter;

    /// <summary>Whether a client's id is kept as it is.</summary>
    public static bool IsSane(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (c is < '!' or > '~' or '"' or '\'' or '\\')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A new id of the proxy's own.</summary>
    public static string Next()
    {
        var n = (ulong)Interlocked.Increment(ref s_counter);
        return string.Create(s_prefix.Length + HexDigits(n), n, static (span, n) =>
        {
            s_prefix.AsSpan().CopyTo(span);
            for (var i = span.Length - 1; i >= s_prefix.Length; i--)
            {
                span[i] = "0123456789abcdef"[(int)(n & 0xF)];
                n >>= 4;
            }
        });
    }

    private static int HexDigits(ulong n) => Math.Max(1, (64 - System.Numerics.BitOperations.LeadingZeroCount(n) + 3) / 4);
}
