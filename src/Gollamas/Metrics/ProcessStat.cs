namespace Gollamas.Metrics;

/// <summary>What <c>/proc/self/stat</c> says of the process (a class: no struct instantiation of its own).</summary>
internal sealed record ProcessStat(ulong UserTicks, ulong SystemTicks, ulong StartTicks, ulong VirtualBytes, long ResidentPages);
