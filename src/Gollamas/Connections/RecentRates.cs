using System.Diagnostics;

namespace Gollamas.Connections;

/// <summary>
/// What the requests of the last minute did, in one-second buckets (a ring of 60): requests,
/// errors, the sum and count of their times to first byte, generated tokens. Constant memory,
/// nothing allocated per request; a short lock per request (a bucket may have to be cleared
/// first), none per chunk. One per connection, one per model on each connection
/// (<see cref="ModelActivity"/>); the status sums them.
/// </summary>
internal sealed class RecentRates
{
    /// <summary>How far back the rates look, in seconds (and buckets).</summary>
    public const int WindowSeconds = 60;

    private readonly Lock _lock = new();
    private readonly long[] _second = new long[WindowSeconds];
    private readonly int[] _requests = new int[WindowSeconds];
    private readonly int[] _errors = new int[WindowSeconds];
    private readonly long[] _firstByteMicroseconds = new long[WindowSeconds];
    private readonly int[] _firstBytes = new int[WindowSeconds];
    private readonly long[] _tokens = new long[WindowSeconds];

    /// <summary>The current second on the clock these rates are kept by (<see cref="Stopwatch"/>).</summary>
    public static long Now() => Stopwatch.GetTimestamp() / Stopwatch.Frequency;

    /// <summary>One request ended at second <paramref name="now"/>.</summary>
    /// <param name="now">The second it ended (<see cref="Now"/>).</param>
    /// <param name="error">Whether it failed on the server's side (no answer, broken, 5xx or 429).</param>
    /// <param name="firstByte">Its time to first byte, when it got an answer.</param>
    /// <param name="generatedTokens">The tokens its answer generated.</param>
    public void Record(long now, bool error, TimeSpan? firstByte, long generatedTokens)
    {
        var slot = (int)(now % WindowSeconds);
        lock (_lock)
        {
            if (_second[slot] != now)
            {
                _second[slot] = now;
                _requests[slot] = 0;
                _errors[slot] = 0;
                _firstByteMicroseconds[slot] = 0;
                _firstBytes[slot] = 0;
                _tokens[slot] = 0;
            }

            _requests[slot]++;
            if (error)
            {
                _errors[slot]++;
            }

            if (firstByte is { } ttfb)
            {
                _firstByteMicroseconds[slot] += (long)(ttfb.TotalMilliseconds * 1000);
                _firstBytes[slot]++;
            }

            if (generatedTokens > 0)
            {
                _tokens[slot] += generatedTokens;
            }
        }
    }

    /// <summary>Adds the buckets of the minute up to second <paramref name="now"/> to <paramref name="totals"/>.</summary>
    public void AddTo(RateTotals totals, long now)
    {
        ArgumentNullException.ThrowIfNull(totals);
        lock (_lock)
        {
            for (var slot = 0; slot < WindowSeconds; slot++)
            {
                var second = _second[slot];
                if (second > now - WindowSeconds && second <= now && _requests[slot] > 0)
                {
                    totals.Requests += _requests[slot];
                    totals.Errors += _errors[slot];
                    totals.FirstByteMicroseconds += _firstByteMicroseconds[slot];
                    totals.FirstBytes += _firstBytes[slot];
                    totals.GeneratedTokens += _tokens[slot];
                }
            }
        }
    }
}

/// <summary>Sums of <see cref="RecentRates"/> over the last minute, and the rates they make.</summary>
internal sealed class RateTotals
{
    public long Requests { get; set; }

    public long Errors { get; set; }

    public long FirstByteMicroseconds { get; set; }

    public long FirstBytes { get; set; }

    public long GeneratedTokens { get; set; }

    public double RequestsPerSecond => (double)Requests / RecentRates.WindowSeconds;

    public double ErrorsPerSecond => (double)Errors / RecentRates.WindowSeconds;

    public double GeneratedTokensPerSecond => (double)GeneratedTokens / RecentRates.WindowSeconds;

    /// <summary>The mean time to first byte in milliseconds, null without any answer.</summary>
    public double? MeanFirstByteMilliseconds => FirstBytes == 0 ? null : FirstByteMicroseconds / 1000d / FirstBytes;
}
