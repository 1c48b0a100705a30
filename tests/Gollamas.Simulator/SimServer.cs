namespace Gollamas.Simulator;

/// <summary>
/// The performance model of one Ollama server, in simulated time. Every change happens in an
/// action of the fleet's <see cref="SimClock"/> (arrivals are posted to it), under this
/// server's lock; readers (<c>/api/ps</c>, the counters) take the lock too.
/// <para>
/// The scheduler follows Ollama's (server/sched.go): one FIFO of pending requests, served in
/// order. The head gets its model if it is loaded with the same <c>num_ctx</c>; else room is
/// made by unloading idle models, least recently used first, and the model loads (one load at a
/// time per server, its time proportional to its size); when nothing idle can go, the least
/// recently used model is marked to go once idle and the whole FIFO waits behind the head. A
/// loaded model serves <see cref="SimServerOptions.NumParallel"/> requests at once, the rest wait
/// in its own FIFO; a request takes the free slot whose cache shares the longest prefix with
/// its prompt (the least recently used on a tie) and evaluates only the rest.
/// </para>
/// </summary>
public sealed class SimServer
{
    private readonly Lock _lock = new();
    private readonly SimClock _clock;
    private readonly List<SimJob> _pending = [];
    private readonly Dictionary<string, SimRunner> _loaded = new(StringComparer.Ordinal);
    private readonly List<(long Count, TaskCompletionSource Signal)> _arrivalWaiters = [];
    private double _usedGb;
    private TimeSpan _loaderFreeAt;
    private SimCounters _counters = new();

    public SimServer(SimServerOptions options, SimClock clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        Options = options;
        _clock = clock;
    }

    public SimServerOptions Options { get; }

    public string Name => Options.Name;

    public SimClock Clock => _clock;

    public SimCounters Counters
    {
        get
        {
            lock (_lock)
            {
                return _counters;
            }
        }
    }

    /// <summary>The loaded (or loading) models, as <c>/api/ps</c> tells them, longest-lived first.</summary>
    public IReadOnlyList<SimLoadedModel> Loaded()
    {
        var now = _clock.Now;
        lock (_lock)
        {
            return _loaded.Values
                .Select(r => new SimLoadedModel(r.Model, r.NumCtx, r.Ready, ExpiresAt(r, now)))
                .OrderByDescending(m => m.ExpiresAt ?? TimeSpan.MaxValue)
                .ToArray();
        }
    }

    /// <summary>The model named <paramref name="name"/> as a client may spell it, or null.</summary>
    public SimModel? FindModel(string name) => Options.Models.FirstOrDefault(m => m.IsNamed(name));

    /// <summary>Hands a request to the model (at the clock's now); read its progress from the job.</summary>
    public SimJob Submit(SimJobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var job = new SimJob(request);
        _clock.Post(t => Arrive(job, t));
        return job;
    }

    /// <summary>The client went away: the request leaves its queue or its slot (at the clock's now).</summary>
    public void Cancel(SimJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        _clock.Post(t => Abandon(job, t));
    }

    /// <summary>Completes once <paramref name="count"/> requests have arrived in all.</summary>
    public Task WaitForArrivalsAsync(long count)
    {
        lock (_lock)
        {
            if (_counters.Requests >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _arrivalWaiters.Add((count, signal));
            return signal.Task;
        }
    }

    private void Arrive(SimJob job, TimeSpan t)
    {
        lock (_lock)
        {
            job.Arrived = t;
            _counters = _counters with { Requests = _counters.Requests + 1 };
            SignalArrivals();
            var request = job.Request;
            if (request.Kind == SimJobKind.Unload)
            {
                UnloadOnRequest(job, t);
                return;
            }

            if (request.Model.SizeGb > Options.MemoryGb)
            {
                job.State = SimJobState.Finished;
                job.Tell(new SimProgress(SimProgressKind.TooLarge, 0, null));
                return;
            }

            if (WaitingCount() >= Options.MaxQueue)
            {
                _counters = _counters with { Busy = _counters.Busy + 1 };
                job.State = SimJobState.Finished;
                job.Tell(new SimProgress(SimProgressKind.Busy, 0, null));
                return;
            }

            job.State = SimJobState.Pending;
            _pending.Add(job);
            Pump(t);
        }
    }

    /// <summary>Serves the scheduler's FIFO from its head as far as it can.</summary>
    private void Pump(TimeSpan t)
    {
        while (_pending.Count > 0)
        {
            var job = _pending[0];
            var model = job.Request.Model;
            var numCtx = job.Request.NumCtx ?? Options.DefaultNumCtx;
            if (_loaded.TryGetValue(model.Name, out var runner))
            {
                if (runner.NumCtx == numCtx)
                {
                    _pending.RemoveAt(0);
                    Assign(job, runner, t);
                    continue;
                }

                // Another context size: Ollama reloads the model once its requests are done.
                runner.UnloadWhenIdle = SimUnloadReason.Reload;
                if (runner.Idle)
                {
                    Unload(runner, SimUnloadReason.Reload);
                    continue;
                }

                return;
            }

            if (model.SizeGb <= Options.MemoryGb - _usedGb + 1e-9)
            {
                _pending.RemoveAt(0);
                Assign(job, Load(job, numCtx, t), t);
                continue;
            }

            var victim = _loaded.Values.Where(r => r.Idle).OrderBy(r => r.LastUsed).FirstOrDefault();
            if (victim is not null)
            {
                Unload(victim, SimUnloadReason.Eviction);
                continue;
            }

            // Nothing idle: the least recently used model goes once its requests are done, and the
            // head (with everything behind it) waits for that.
            var busy = _loaded.Values.Where(r => r.UnloadWhenIdle is null).OrderBy(r => r.LastUsed).FirstOrDefault();
            busy?.UnloadWhenIdle = SimUnloadReason.Eviction;
            return;
        }
    }

    private SimRunner Load(SimJob job, int numCtx, TimeSpan t)
    {
        var model = job.Request.Model;
        var start = _loaderFreeAt > t ? _loaderFreeAt : t;
        var readyAt = start + Options.LoadTime(model);
        _loaderFreeAt = readyAt;
        var runner = new SimRunner(model, numCtx, Options.NumParallel, readyAt, job.Request.KeepAlive ?? Options.DefaultKeepAlive) { LastUsed = t };
        _loaded.Add(model.Name, runner);
        _usedGb += model.SizeGb;
        _counters = _counters with { Loads = _counters.Loads + 1 };
        _clock.Schedule(readyAt, at => Ready(runner, at));
        return runner;
    }

    private void Ready(SimRunner runner, TimeSpan t)
    {
        lock (_lock)
        {
            if (runner.Unloaded)
            {
                return;
            }

            runner.Ready = true;
            foreach (var job in runner.Waiting)
            {
                job.LoadDuration = t - job.Arrived;
            }

            Dispatch(runner, t);
            AfterRelease(runner, t);
            Pump(t);
        }
    }

    private void Assign(SimJob job, SimRunner runner, TimeSpan t)
    {
        job.State = SimJobState.Assigned;
        job.Runner = runner;
        runner.Active++;
        runner.LastUsed = t;
        runner.Expiry?.Cancel();
        runner.Expiry = null;
        if (job.Request.KeepAlive is { } keepAlive)
        {
            runner.KeepAlive = keepAlive;
        }

        runner.Waiting.Add(job);
        if (runner.Ready)
        {
            job.LoadDuration = t - job.Arrived;
            Dispatch(runner, t);
            AfterRelease(runner, t);
        }
    }

    /// <summary>Starts waiting requests of a ready model while it has free slots.</summary>
    private void Dispatch(SimRunner runner, TimeSpan t)
    {
        while (runner.Ready && runner.Waiting.Count > 0)
        {
            var job = runner.Waiting[0];
            if (job.Request.Kind == SimJobKind.Load)
            {
                runner.Waiting.RemoveAt(0);
                runner.Active--;
                Finish(job, t, "load");
                continue;
            }

            var slot = ChooseSlot(runner, job.Request.Prompt);
            if (slot is null)
            {
                return;
            }

            runner.Waiting.RemoveAt(0);
            Start(job, slot, t);
        }
    }

    /// <summary>The free slot with the longest common prefix, the least recently used on a tie.</summary>
    private static SimSlot? ChooseSlot(SimRunner runner, int[] prompt)
    {
        SimSlot? best = null;
        var bestPrefix = -1;
        foreach (var slot in runner.Slots)
        {
            if (slot.Job is not null)
            {
                continue;
            }

            var prefix = SimTokens.CommonPrefix(slot.Cache, prompt);
            if (prefix > bestPrefix || (prefix == bestPrefix && slot.LastUsed < best!.LastUsed))
            {
                best = slot;
                bestPrefix = prefix;
            }
        }

        return best;
    }

    private void Start(SimJob job, SimSlot slot, TimeSpan t)
    {
        var request = job.Request;
        var model = request.Model;
        var prompt = request.Prompt;

        // The last prompt token is always evaluated again: it yields the first token's logits.
        var cached = prompt.Length == 0 ? 0 : Math.Min(SimTokens.CommonPrefix(slot.Cache, prompt), prompt.Length - 1);
        job.State = SimJobState.Running;
        job.Slot = slot;
        job.Evaluated = prompt.Length - cached;
        job.PrefillEnd = t + Seconds(job.Evaluated / model.PromptTokensPerSecond);
        job.End = job.PrefillEnd + Seconds(request.OutputTokens / model.GenerateTokensPerSecond);
        slot.Job = job;
        slot.LastUsed = t;
        _counters = _counters with
        {
            PromptTokens = _counters.PromptTokens + prompt.Length,
            CachedPromptTokens = _counters.CachedPromptTokens + cached,
        };

        var first = request.OutputTokens == 0 ? job.End : job.PrefillEnd + Seconds(1 / model.GenerateTokensPerSecond);
        _clock.Schedule(first, at => Tick(job, at));
    }

    /// <summary>Tells the tokens made by <paramref name="t"/>; at the end, the final statistics.</summary>
    private void Tick(SimJob job, TimeSpan t)
    {
        lock (_lock)
        {
            if (job.State != SimJobState.Running)
            {
                return;
            }

            var total = job.Request.OutputTokens;
            var made = t >= job.End
                ? total
                : Math.Min(total, (int)Math.Floor(((t - job.PrefillEnd).TotalSeconds * job.Request.Model.GenerateTokensPerSecond) + 1e-6));
            if (made > job.Emitted)
            {
                job.Tell(new SimProgress(SimProgressKind.Tokens, made - job.Emitted, null));
                job.Emitted = made;
            }

            if (made < total)
            {
                var next = t + Options.ChunkInterval;
                _clock.Schedule(next < job.End ? next : job.End, at => Tick(job, at));
                return;
            }

            var runner = job.Runner!;
            var slot = job.Slot!;
            slot.Cache = [.. job.Request.Prompt, .. job.AnswerTokens];
            slot.Job = null;
            slot.LastUsed = t;
            runner.Active--;
            runner.LastUsed = t;
            _counters = _counters with { Completed = _counters.Completed + 1, GeneratedTokens = _counters.GeneratedTokens + total };
            Finish(job, t, job.Request.LimitedByRequest ? "length" : "stop");
            Dispatch(runner, t);
            AfterRelease(runner, t);
            Pump(t);
        }
    }

    private static void Finish(SimJob job, TimeSpan t, string reason)
    {
        job.State = SimJobState.Finished;
        var model = job.Request.Model;
        var generated = job.Request.Kind == SimJobKind.Generate;
        job.Tell(new SimProgress(SimProgressKind.Done, 0, new SimResult
        {
            DoneReason = reason,
            TotalDuration = t - job.Arrived,
            LoadDuration = job.LoadDuration,
            PromptEvalCount = generated ? job.Evaluated : 0,
            PromptEvalDuration = generated ? Seconds(job.Evaluated / model.PromptTokensPerSecond) : TimeSpan.Zero,
            EvalCount = generated ? job.Request.OutputTokens : 0,
            EvalDuration = generated ? Seconds(job.Request.OutputTokens / model.GenerateTokensPerSecond) : TimeSpan.Zero,
        }));
    }

    /// <summary>A model with no request left: unloaded now if it must go, else its keep-alive starts.</summary>
    private void AfterRelease(SimRunner runner, TimeSpan t)
    {
        if (!runner.Idle || runner.Unloaded)
        {
            return;
        }

        if (runner.UnloadWhenIdle is { } reason)
        {
            Unload(runner, reason);
        }
        else if (runner.KeepAlive == TimeSpan.Zero)
        {
            Unload(runner, SimUnloadReason.Expiry);
        }
        else if (runner.KeepAlive > TimeSpan.Zero && runner.Expiry is null)
        {
            runner.Expiry = _clock.Schedule(t + runner.KeepAlive, at => Expire(runner, at));
        }
    }

    private void Expire(SimRunner runner, TimeSpan t)
    {
        lock (_lock)
        {
            if (runner.Unloaded || !runner.Idle)
            {
                return;
            }

            Unload(runner, SimUnloadReason.Expiry);
            Pump(t);
        }
    }

    private void Unload(SimRunner runner, SimUnloadReason reason)
    {
        runner.Unloaded = true;
        runner.Expiry?.Cancel();
        runner.Expiry = null;
        _loaded.Remove(runner.Model.Name);
        _usedGb -= runner.Model.SizeGb;
        _counters = reason switch
        {
            SimUnloadReason.Eviction => _counters with { Evictions = _counters.Evictions + 1 },
            SimUnloadReason.Reload => _counters with { Reloads = _counters.Reloads + 1 },
            _ => _counters with { Expiries = _counters.Expiries + 1 },
        };
    }

    /// <summary><c>keep_alive:0</c> with no prompt: the model goes now, or once its requests are done.</summary>
    private void UnloadOnRequest(SimJob job, TimeSpan t)
    {
        if (_loaded.TryGetValue(job.Request.Model.Name, out var runner))
        {
            runner.KeepAlive = TimeSpan.Zero;
            AfterRelease(runner, t);
        }

        Finish(job, t, "unload");
        Pump(t);
    }

    private void Abandon(SimJob job, TimeSpan t)
    {
        lock (_lock)
        {
            var state = job.State;
            job.State = SimJobState.Cancelled;
            switch (state)
            {
                case SimJobState.Pending:
                    _pending.Remove(job);
                    Pump(t);
                    break;
                case SimJobState.Assigned:
                    job.Runner!.Waiting.Remove(job);
                    job.Runner.Active--;
                    AfterRelease(job.Runner, t);
                    Pump(t);
                    break;
                case SimJobState.Running:
                    var runner = job.Runner!;
                    var slot = job.Slot!;
                    slot.Cache = [.. job.Request.Prompt, .. job.AnswerTokens.AsSpan(0, Math.Min(job.Emitted, job.AnswerTokens.Length))];
                    slot.Job = null;
                    slot.LastUsed = t;
                    runner.Active--;
                    runner.LastUsed = t;
                    _counters = _counters with { GeneratedTokens = _counters.GeneratedTokens + job.Emitted };
                    Dispatch(runner, t);
                    AfterRelease(runner, t);
                    Pump(t);
                    break;
                default:
                    job.State = state;
                    break;
            }
        }
    }

    private int WaitingCount()
    {
        var waiting = _pending.Count;
        foreach (var runner in _loaded.Values)
        {
            waiting += runner.Waiting.Count;
        }

        return waiting;
    }

    private static TimeSpan? ExpiresAt(SimRunner runner, TimeSpan now)
    {
        if (runner.KeepAlive < TimeSpan.Zero)
        {
            return null;
        }

        return runner.Idle && runner.Expiry is { } expiry ? expiry.At : now + runner.KeepAlive;
    }

    private void SignalArrivals()
    {
        for (var i = _arrivalWaiters.Count - 1; i >= 0; i--)
        {
            if (_counters.Requests >= _arrivalWaiters[i].Count)
            {
                _arrivalWaiters[i].Signal.TrySetResult();
                _arrivalWaiters.RemoveAt(i);
            }
        }
    }

    private static TimeSpan Seconds(double seconds) => TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
}

/// <summary>A model in memory as <c>/api/ps</c> shows it; <paramref name="ExpiresAt"/> null means never.</summary>
public sealed record SimLoadedModel(SimModel Model, int NumCtx, bool Ready, TimeSpan? ExpiresAt);
