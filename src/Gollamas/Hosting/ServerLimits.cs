namespace Gollamas.Hosting;

/// <summary>Limits that are not (yet) settings of their own: tests shorten them.</summary>
internal sealed record ServerLimits
{
    /// <summary>How long each server may take to answer a list or version request.</summary>
    public TimeSpan FanOutTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether every server is probed at start-up; without, the first probe comes one interval
    /// later. Tests that assert every request a server received turn it off, so their servers
    /// see only the probes the test's clock brings.
    /// </summary>
    public bool ProbeAtStart { get; init; } = true;

    /// <summary>
    /// Whether each server's <c>/api/tags</c> is read at start-up and after each swap to report
    /// configured models it lacks (<see cref="Fleet.ModelInventoryCheck"/>). Tests that assert every
    /// request a server received turn it off.
    /// </summary>
    public bool CheckModels { get; init; } = true;
}
