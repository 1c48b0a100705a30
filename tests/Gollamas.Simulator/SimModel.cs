namespace Gollamas.Simulator;

/// <summary>
/// A model every simulated server has on disk: its size in memory once loaded (weights and
/// cache together, whatever the context size), and its speeds on one of the fleet's GPUs.
/// </summary>
/// <param name="Name">As clients name it and <c>/api/tags</c> lists it, with its tag.</param>
/// <param name="SizeGb">Memory it takes loaded, in GB (10^9 bytes).</param>
/// <param name="PromptTokensPerSecond">Prefill speed of one request.</param>
/// <param name="GenerateTokensPerSecond">Generation speed of one request (slots do not slow each other).</param>
public sealed record SimModel(string Name, double SizeGb, double PromptTokensPerSecond, double GenerateTokensPerSecond)
{
    /// <summary>
    /// A model whose speeds follow its size, as on a 24 GB GPU of the RTX 3090/4090 class: a
    /// generated token reads every weight once, so generation is bound by memory bandwidth (about
    /// 900 GB/s, two thirds of it used: 600 GB/s over the size, 43 tokens/s for 14 GB); prefill
    /// is bound by compute, about 33 times faster (1400 tokens/s for 14 GB, 10000 for 2 GB).
    /// </summary>
    public static SimModel OfSize(string name, double sizeGb) => new(name, sizeGb, 20000 / sizeGb, 600 / sizeGb);

    public long SizeBytes => (long)(SizeGb * 1e9);

    /// <summary>Whether a client's <paramref name="name"/> means this model (a missing tag is <c>latest</c>).</summary>
    public bool IsNamed(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return string.Equals(Name, name, StringComparison.OrdinalIgnoreCase)
            || (!name.Contains(':', StringComparison.Ordinal) && string.Equals(Name, name + ":latest", StringComparison.OrdinalIgnoreCase));
    }
}
