namespace Gollamas.Bench.Load;

/// <summary>How a target of the issue judges Gollamas' figure.</summary>
internal enum GoalKind
{
    /// <summary>Gollamas ≥ nginx (throughput).</summary>
    AtLeastNginx,

    /// <summary>Gollamas ≤ nginx (latency).</summary>
    AtMostNginx,

    /// <summary>Gollamas strictly below a fixed limit.</summary>
    Below,

    /// <summary>Gollamas equal to a fixed value (zero errors).</summary>
    Equal,
}
