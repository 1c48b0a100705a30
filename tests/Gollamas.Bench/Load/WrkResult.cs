namespace Gollamas.Bench.Load;

/// <summary>One wrk measurement, from the summary line bench/post.lua prints.</summary>
internal sealed record WrkResult(long Requests, double Seconds, long Bytes, long Errors, double P50Ms, double P99Ms)
{
    public double RequestsPerSecond => Requests / Seconds;

    /// <summary>Bytes read per second (headers and chunk framing included), in MB (10^6).</summary>
    public double MegabytesPerSecond => Bytes / Seconds / 1e6;
}
