namespace Gollamas.Simulator;

/// <summary>A model loaded (or loading) on a server: its slots, the requests waiting for one, its keep-alive.</summary>
internal sealed class SimRunner
{
    public SimRunner(SimModel model, int numCtx, int slots, TimeSpan readyAt, TimeSpan keepAlive)
    {
        Model = model;
        NumCtx = numCtx;
        ReadyAt = readyAt;
        KeepAlive = keepAlive;
        Slots = new SimSlot[slots];
        for (var i = 0; i < slots; i++)
        {
            Slots[i] = new SimSlot();
        }
    }

    public SimModel Model { get; }

    public int NumCtx { get; }

    public TimeSpan ReadyAt { get; }

    public bool Ready { get; set; }

    public bool Unloaded { get; set; }

    public SimSlot[] Slots { get; }

    /// <summary>Requests handed this model, waiting for it to load or for a slot, in order.</summary>
    public List<SimJob> Waiting { get; } = [];

    /// <summary>Requests handed this model and not done (Ollama's reference count).</summary>
    public int Active { get; set; }

    public TimeSpan LastUsed { get; set; }

    /// <summary>Negative: for ever; zero: unload when idle.</summary>
    public TimeSpan KeepAlive { get; set; }

    public SimTimer? Expiry { get; set; }

    /// <summary>Set when the scheduler needs this model gone (room, or another num_ctx): it goes once idle.</summary>
    public SimUnloadReason? UnloadWhenIdle { get; set; }

    public bool Idle => Ready && Active == 0;
}

/// <summary>One of a loaded model's parallel slots, and the tokens its cache holds.</summary>
internal sealed class SimSlot
{
    public int[] Cache { get; set; } = [];

    public SimJob? Job { get; set; }

    public TimeSpan LastUsed { get; set; }
}

internal enum SimUnloadReason
{
    Eviction,
    Reload,
    Expiry,
}
