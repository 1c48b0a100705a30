using System.Diagnostics;
using System.Text.Json;
using Gollamas.Bodies;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Metrics;
using Gollamas.Routing;
using Microsoft.Extensions.Logging;

namespace Gollamas.Fleet;

/// <summary>
/// Loads the <c>--preload</c> models on each of their servers: at start-up (without holding it
/// up), whenever one of those servers comes back up, and, with a ping interval, again and again
/// so they stay loaded. The load is Ollama's own: an empty generate request (an empty embed for
/// embedding models) carrying the model's keep-alive and context size, so the model is loaded
/// exactly as the proxied requests will want it. These are the proxy's own requests: logged and
/// counted as model loads, never as client traffic.
/// </summary>
internal sealed partial class ModelPreloader : IAsyncDisposable
{
    private const string Preload = "preload";
    private const string Ping = "ping";
    private const int MaxErrorChars = 300;

    private readonly ProxySnapshotHolder _snapshots;
    private readonly TimeSpan _loadTimeout;
    private readonly HealthMonitor _health;
    private readonly TimeProvider _time;
    private readonly ProxyMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();

    // Under _lock, all by (model name, connection id): the load running for each model and
    // server, the pairs whose last load could not reach the server (sent again when it next
    // answers a probe), and the loads cut because a swap dropped their pair (awaited on stop).
    private readonly Dictionary<PreloadKey, Running> _running = [];
    private readonly HashSet<PreloadKey> _unreached = [];
    private readonly HashSet<Running> _dropped = [];
    private bool _stopped;

    // Under _lock: models a server said cannot generate (embedding models), loaded with /api/embed.
    private readonly HashSet<PreloadKey> _embeddingModels = [];
    private IReadOnlyList<Target> _targets = [];

    // Under _lock: the ping interval of the current snapshot, the loop pinging at it (cut when a
    // swap changes it), and every ping loop started (awaited on stop).
    private TimeSpan _pingInterval;
    private CancellationTokenSource? _pingStop;
    private readonly List<Task> _pings = [];

    /// <param name="snapshots">
    /// Where the preloaded models, their settings and servers, and the ping interval come from;
    /// followed on every swap.
    /// </param>
    /// <param name="loadTimeout">How long one load may take (large models take minutes); zero for no limit.</param>
    /// <param name="health">Whose events say a server is back.</param>
    /// <param name="time">The clock of the pings.</param>
    /// <param name="metrics">Where loads are counted.</param>
    /// <param name="logger">Where loads are logged.</param>
    public ModelPreloader(
        ProxySnapshotHolder snapshots,
        TimeSpan loadTimeout,
        HealthMonitor health,
        TimeProvider time,
        ProxyMetrics metrics,
        ILogger<ModelPreloader> logger)
    {
        _snapshots = snapshots;
        _loadTimeout = loadTimeout;
        _health = health;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Whether preload requests are sent again at an interval.</summary>
    public bool IsPinging
    {
        get
        {
            lock (_lock)
            {
                return _pingInterval > TimeSpan.Zero && _targets.Count > 0;
            }
        }
    }

    /// <summary>Sends the start-up loads and starts the pings; returns at once. From then on it follows every snapshot swap.</summary>
    public void Start()
    {
        _health.CameUp += OnConnectionUp;
        _health.ProbeSucceeded += OnProbeSucceeded;
        _snapshots.Swapped += OnSwapped;
        OnSwapped(_snapshots.Current);
    }

    public async ValueTask DisposeAsync()
    {
        _health.CameUp -= OnConnectionUp;
        _health.ProbeSucceeded -= OnProbeSucceeded;
        _snapshots.Swapped -= OnSwapped;
        Task[] running;
        Task[] pings;
        lock (_lock)
        {
            _stopped = true;
            running = [.. _running.Values.Concat(_dropped).Select(static r => r.Done.Task)];
            pings = [.. _pings];
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(pings);
        await Task.WhenAll(running);
        _pingStop?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// Takes the preloaded models of a new snapshot: a (model, server) pair it no longer names
    /// stops being kept loaded (its load running is cut), a new one is loaded now. A pair whose
    /// connection id now names another server counts as new. A new ping interval starts a new
    /// round of pings at it.
    /// </summary>
    private void OnSwapped(ProxySnapshot snapshot)
    {
        var next = Targets(snapshot);
        var due = new List<Target>();
        var cut = new List<Running>();
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            var before = _targets;
            Volatile.Write(ref _targets, next);
            foreach (var (key, running) in _running)
            {
                if (!next.Any(t => t.Key == key && t.Connection == running.Connection))
                {
                    _running.Remove(key);
                    _dropped.Add(running);
                    cut.Add(running);
                }
            }

            foreach (var target in next)
            {
                if (!before.Any(t => t.Key == target.Key && t.Connection == target.Connection))
                {
                    due.Add(target);
                }
            }

            _unreached.RemoveWhere(key => !next.Any(t => t.Key == key));
            if (snapshot.Lifecycle.PingInterval != _pingInterval)
            {
                _pingInterval = snapshot.Lifecycle.PingInterval;
                _pingStop?.Cancel();
                _pingStop?.Dispose();
                _pingStop = null;
                if (_pingInterval > TimeSpan.Zero)
                {
                    _pingStop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    _pings.Add(PingAsync(_pingInterval, _pingStop.Token));
                }
            }

            // Under the lock, as a restart cuts a load: a load disposes its token source only
            // once it has left _dropped, under this lock.
            foreach (var running in cut)
            {
                running.Cancel.Cancel();
            }
        }

        foreach (var target in due)
        {
            Request(target, Preload, restart: false);
        }
    }

    // The (model, server) pairs a snapshot preloads, in the order of its --preload list.
    private static Target[] Targets(ProxySnapshot snapshot)
    {
        var targets = new List<Target>();
        foreach (var name in snapshot.Lifecycle.Preload)
        {
            var model = snapshot.Routes.Models.First(m => string.Equals(m.Name, name, StringComparison.Ordinal));
            foreach (var connection in model.Connections)
            {
                targets.Add(new Target(model, connection));
            }
        }

        return [.. targets];
    }

    // Back after being marked down: it may have restarted and lost its models, and a load still
    // running there from before is stale (its server went silent): it is cut and sent anew.
    private void OnConnectionUp(Connection connection)
    {
        foreach (var target in Volatile.Read(ref _targets))
        {
            if (target.Connection == connection)
            {
                Request(target, Preload, restart: true);
            }
        }
    }

    // A server that was not there for its load (not running yet at start-up, restarting) but
    // never failed enough probes to be marked down gets it when it next answers.
    private void OnProbeSucceeded(Connection connection)
    {
        List<Target>? due = null;
        lock (_lock)
        {
            foreach (var target in _targets)
            {
                if (target.Connection == connection && _unreached.Contains(target.Key))
                {
                    (due ??= []).Add(target);
                }
            }
        }

        foreach (var target in due ?? [])
        {
            Request(target, Preload, restart: false);
        }
    }

    private async Task PingAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        // A periodic timer is armed from its creation: a tick is not lost while the previous
        // round's loads are still running.
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var target in Volatile.Read(ref _targets))
                {
                    if (target.Connection.Health.IsAvailable)
                    {
                        Request(target, Ping, restart: false);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// Starts a load of <paramref name="target"/>'s model on its server. One runs per model
    /// and server at a time: a ping that comes while a slow load still runs has nothing to add;
    /// with <paramref name="restart"/>, the running one is cut and a new one follows it.
    /// </summary>
    private void Request(Target target, string reason, bool restart)
    {
        var (model, connection) = target;
        Running running;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            if (_running.TryGetValue(target.Key, out var current))
            {
                if (restart)
                {
                    current.Again = true;
                    current.Cancel.Cancel();
                }
                else
                {
                    Log.StillLoading(_logger, model.Name, connection.DisplayName, reason);
                }

                return;
            }

            running = new Running(connection, CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
            _running.Add(target.Key, running);
            _unreached.Remove(target.Key);
        }

        if (reason == Ping)
        {
            Log.Pinging(_logger, model.Name, connection.DisplayName);
        }
        else
        {
            Log.Loading(_logger, model.Name, connection.DisplayName);
        }

        _ = RunAsync(target, reason, running);
    }

    private async Task RunAsync(Target target, string reason, Running running)
    {
        var (model, connection) = target;
        await Task.Yield();
        var started = Stopwatch.GetTimestamp();
        LoadResult result;
        var acquired = connection.TryAcquire();
        try
        {
            // A server retired by a swap is dropped from the targets as the swap completes.
            result = acquired ? await LoadAsync(target, running.Cancel.Token) : new LoadResult(null, Unreached: false);
        }
#pragma warning disable CA1031 // Nobody awaits this task: what it did not expect is reported as a failed load, not lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Its message would be a resource key in the published binary; the exception goes to the debug log.
            Log.LoadCrashed(_logger, target.Model.Name, target.Connection.DisplayName, ex);
            result = new LoadResult("an unexpected error", Unreached: false);
        }
        finally
        {
            if (acquired)
            {
                connection.Release();
            }
        }

        bool again;
        bool dropped;
        lock (_lock)
        {
            // Done before it is reported: whoever reacts to the report may start the next load.
            dropped = _dropped.Remove(running) || !acquired;
            if (_running.TryGetValue(target.Key, out var current) && current == running)
            {
                _running.Remove(target.Key);
            }

            again = running.Again && !_stopped && !dropped;
            if (result.Unreached && !running.Cancel.IsCancellationRequested)
            {
                _unreached.Add(target.Key);
            }
        }

        running.Cancel.Dispose();
        running.Done.SetResult();
        if (again)
        {
            Request(target, Preload, restart: false);
            return;
        }

        if (_stopping.IsCancellationRequested || dropped)
        {
            return;
        }

        _metrics.RecordModelLoad(model.Name, connection.Id, reason, result.Problem is null);
        if (result.Problem is not null)
        {
            Log.LoadFailed(_logger, model.Name, connection.DisplayName, reason, result.Problem);
            return;
        }

        // Routing prefers a server with the model loaded; no need to wait for its next /api/ps.
        connection.Health.MarkLoaded(model.Canonical);
        var took = GoDuration.Format(Stopwatch.GetElapsedTime(started));
        if (reason == Ping)
        {
            Log.Pinged(_logger, model.Name, connection.DisplayName, took);
        }
        else
        {
            Log.Loaded(_logger, model.Name, connection.DisplayName, took, model.Defaults.KeepAliveText ?? "server default",
                model.Defaults.NumCtx?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "server default");
        }
    }

    /// <summary>Sends the load request: no problem when the model is loaded; else why not, and whether the server was out of reach.</summary>
    private async Task<LoadResult> LoadAsync(Target target, CancellationToken cancellationToken)
    {
        var (model, connection) = target;
        var body = LoadRequestBody(model);
        using var timeout = _loadTimeout > TimeSpan.Zero ? new CancellationTokenSource(_loadTimeout, _time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            // Embedding models cannot generate; Ollama loads them with an empty embed request.
            // Once a server has said so, later loads there go to /api/embed at once.
            bool embedding;
            lock (_lock)
            {
                embedding = _embeddingModels.Contains(target.Key);
            }

            var (status, error) = await SendAsync(connection, embedding ? "/api/embed" : "/api/generate", body, linked.Token);
            if (!embedding && status == 400 && error?.Contains("does not support generate", StringComparison.Ordinal) == true)
            {
                (status, error) = await SendAsync(connection, "/api/embed", body, linked.Token);
                if (status is >= 200 and < 300)
                {
                    lock (_lock)
                    {
                        _embeddingModels.Add(target.Key);
                    }
                }
            }

            return new LoadResult(status is >= 200 and < 300 ? null : $"{status}: {error}", Unreached: false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return timeout.IsCancellationRequested
                ? new LoadResult($"no answer within {GoDuration.Format(_loadTimeout)}", Unreached: false)
                : new LoadResult(UpstreamFailure.Describe(ex), Unreached: true);
        }
    }

    // {"model":NAME,"keep_alive":V,"options":{"num_ctx":N}}: the model's rules applied to a bare
    // request, so the loaded instance is the one its proxied requests want (a different num_ctx
    // or num_gpu would make Ollama load it again).
    private static byte[] LoadRequestBody(ModelRoute model)
    {
        var bare = new byte[10 + model.NameAsJsonString.Length];
        var length = 0;
        Append(bare, ref length, "{\"model\":"u8);
        Append(bare, ref length, model.NameAsJsonString.Span);
        Append(bare, ref length, "}"u8);
        var body = RequestDefaultsSplice.Apply(new ForwardBody(bare), model.Defaults);
        var bytes = new byte[body.Length];
        body.CopyTo(bytes);
        return bytes;
    }

    private static void Append(byte[] body, ref int length, ReadOnlySpan<byte> part)
    {
        part.CopyTo(body.AsSpan(length));
        length += part.Length;
    }

    private static async Task<(int Status, string? Error)> SendAsync(Connection connection, string path, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, connection.CreateUri(path, null))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await connection.Invoker.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? ((int)response.StatusCode, null) : ((int)response.StatusCode, ErrorText(text));
    }

    // Ollama's {"error":"..."}, else the start of whatever came.
    private static string ErrorText(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error"u8, out var error)
                && error.ValueKind == JsonValueKind.String)
            {
                return error.GetString()!;
            }
        }
        catch (JsonException)
        {
            // Not JSON: shown as it came.
        }

        return body.Length > MaxErrorChars ? body[..MaxErrorChars] : body;
    }

    /// <summary>One model on one server, keyed by (model name, connection id).</summary>
    private readonly record struct PreloadKey(string Model, string Connection);

    /// <summary>A model to keep loaded on one of its servers, as the current snapshot names them.</summary>
    private readonly record struct Target(ModelRoute Model, Connection Connection)
    {
        public PreloadKey Key => new(Model.Name, Connection.Id);
    }

    /// <summary>A load in flight: cut it to send a new one (<see cref="Again"/>), when a swap drops it, or on stop.</summary>
    private sealed class Running(Connection connection, CancellationTokenSource cancel)
    {
        public Connection Connection { get; } = connection;

        public CancellationTokenSource Cancel { get; } = cancel;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Again { get; set; }
    }

    private readonly record struct LoadResult(string? Problem, bool Unreached);

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ModelLoaded, LogLevel.Information, "Model {Model} loaded on {Backend} in {Duration} (keep-alive {KeepAlive}, num_ctx {NumCtx})", EventName = "ModelLoaded")]
        public static partial void Loaded(ILogger logger, string model, string backend, string duration, string keepAlive, string numCtx);

        [LoggerMessage(LogEventIds.ModelLoading, LogLevel.Information, "Loading model {Model} on {Backend}", EventName = "ModelLoading")]
        public static partial void Loading(ILogger logger, string model, string backend);

        [LoggerMessage(LogEventIds.ModelPinging, LogLevel.Debug, "Keeping model {Model} loaded on {Backend}", EventName = "ModelPinging")]
        public static partial void Pinging(ILogger logger, string model, string backend);

        [LoggerMessage(LogEventIds.ModelPinged, LogLevel.Debug, "Model {Model} kept loaded on {Backend} ({Duration})", EventName = "ModelPinged")]
        public static partial void Pinged(ILogger logger, string model, string backend, string duration);

        [LoggerMessage(LogEventIds.ModelLoadFailed, LogLevel.Warning, "Could not load model {Model} on {Backend} ({Reason}): {Problem}", EventName = "ModelLoadFailed")]
        public static partial void LoadFailed(ILogger logger, string model, string backend, string reason, string problem);

        [LoggerMessage(LogEventIds.ModelLoadCrashed, LogLevel.Debug, "Loading model {Model} on {Backend} failed unexpectedly", EventName = "ModelLoadCrashed")]
        public static partial void LoadCrashed(ILogger logger, string model, string backend, Exception exception);

        [LoggerMessage(LogEventIds.ModelStillLoading, LogLevel.Debug, "Model {Model} is still loading on {Backend}; {Reason} skipped", EventName = "ModelStillLoading")]
        public static partial void StillLoading(ILogger logger, string model, string backend, string reason);
    }
}
