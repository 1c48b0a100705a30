namespace Gollamas.Hosting;

/// <summary>Limits and timeouts chosen for long-lived streaming responses and large bodies.</summary>
internal sealed record ServerLimits
{
    /// <summary>
    /// Largest request body. Chat requests carry base64 images and reach tens of MB; Kestrel's
    /// default (about 28.6 MB) would refuse legitimate multi-image requests.
    /// </summary>
    public long MaxRequestBodyBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>How long each server may take to answer a list or version request.</summary>
    public TimeSpan FanOutTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long in-flight requests may run on after a stop signal.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
