namespace Gollamas.Simulator;

/// <summary>One simulated Ollama server: its memory, its scheduler's settings and its models.</summary>
public sealed record SimServerOptions
{
    public required string Name { get; init; }

    /// <summary>GPU memory for models, in GB.</summary>
    public double MemoryGb { get; init; } = 24;

    /// <summary><c>OLLAMA_NUM_PARALLEL</c>: requests one loaded model serves at once.</summary>
    public int NumParallel { get; init; } = 2;

    /// <summary><c>OLLAMA_MAX_QUEUE</c>: requests that may wait on the server; the next one gets 503.</summary>
    public int MaxQueue { get; init; } = 512;

    /// <summary>Cold load time per GB of model (0.5 s/GB: 2 GB/s from disk to GPU).</summary>
    public TimeSpan LoadTimePerGb { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary><c>OLLAMA_KEEP_ALIVE</c>: how long an idle model stays loaded when no request said.</summary>
    public TimeSpan DefaultKeepAlive { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The context size a request gets without <c>options.num_ctx</c> (Ollama's below 24 GiB).</summary>
    public int DefaultNumCtx { get; init; } = 4096;

    /// <summary>
    /// How often a running generation reports the tokens made since its last report (one NDJSON
    /// chunk each): Ollama sends one chunk per token, which would cost the machine more than the
    /// measurement needs. The first token is always a chunk of its own, at its own time.
    /// </summary>
    public TimeSpan ChunkInterval { get; init; } = TimeSpan.FromSeconds(0.25);

    public required IReadOnlyList<SimModel> Models { get; init; }

    public TimeSpan LoadTime(SimModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return LoadTimePerGb * model.SizeGb;
    }
}
