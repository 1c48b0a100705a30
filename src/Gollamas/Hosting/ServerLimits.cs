namespace Gollamas.Hosting;

/// <summary>Limits that are not (yet) settings of their own: tests shorten them.</summary>
internal sealed record ServerLimits
{
    /// <summary>How long each server may take to answer a list or version request.</summary>
    public TimeSpan FanOutTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
