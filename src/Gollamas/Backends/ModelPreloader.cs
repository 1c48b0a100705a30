using System.Diagnostics;
using System.Text.Json;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Routing;
using Microsoft.Extensions.Logging;

namespace Gollamas.Backends;

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

    private readonly IReadOnlyList<ModelRoute> _models;
    private readonly TimeSpan _pingInterval;
    private readonly TimeSpan _loadTimeout;
    private readonly HealthMonitor _health;
    private readonly TimeProvider _time;
    private readonly ProxyMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();

    // Under _lock: the load running for each model and server, and the pairs whose last load
    // could not reach the server (sent again when it next answers a probe).
    private readonly Dictionary<(ModelRoute Model, Backend Backend), Running> _running = [];
    private readonly HashSet<(ModelRoute Model, Backend Backend)> _unreached = [];
    private bool _stopped;

    // Under _lock: models a server said cannot generate (embedding models), loaded with /api/embed.
    private readonly HashSet<(ModelRoute Model, Backend Backend)> _embeddingModels = [];
    private Task _pings = Task.CompletedTask;

    /// <param name="loadTimeout">How long one load may take (large models take minutes); zero for no limit.</param>
    public ModelPreloader(
        RouteTable routes,
        LifecycleOptions options,
        TimeSpan loadTimeout,
        HealthMonitor health,
        TimeProvider time,
        ProxyMetrics metrics,
        ILogger<ModelPreloader> logger)
    {
        _models = [.. options.Preload.Select(name => routes.Models.First(m => string.Equals(m.Name, name, StringComparison.Ordinal)))];
        _pingInterval = options.PingInterval;
        _loadTimeout = loadTimeout;
        _health = health;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Whether preload requests are sent again at an interval.</summary>
    public bool IsPinging => _pingInterval > TimeSpan.Zero && _models.Count > 0;

    /// <summary>Sends the start-up loads and starts the pings; returns at once.</summary>
    public void Start()
    {
        if (_models.Count == 0)
        {
            return;
        }

        _health.CameUp += OnServerUp;
        _health.ProbeSucceeded += OnProbeSucceeded;
        foreach (var model in _models)
        {
            foreach (var backend in model.Backends)
            {
                Request(model, backend, Preload, restart: false);
            }
        }

        if (IsPinging)
        {
            _pings = PingAsync(_stopping.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _health.CameUp -= OnServerUp;
        _health.ProbeSucceeded -= OnProbeSucceeded;
        Task[] running;
        lock (_lock)
        {
            _stopped = true;
            running = [.. _running.Values.Select(static r => r.Done.Task)];
        }

        await _stopping.CancelAsync();
        await _pings;
        await Task.WhenAll(running);
        _stopping.Dispose();
    }

    // Back after being marked down: it may have restarted and lost its models, and a load still
    // running there from before is stale (its server went silent): it is cut and sent anew.
    private void OnServerUp(Backend backend)
    {
        foreach (var model in _models)
        {
            if (model.Backends.Contains(backend))
            {
                Request(model, backend, Preload, restart: true);
            }
        }
    }

    // A server that was not there for its load (not running yet at start-up, restarting) but
    // never failed enough probes to be marked down gets it when it next answers.
    private void OnProbeSucceeded(Backend backend)
    {
        List<ModelRoute>? due = null;
        lock (_lock)
        {
            foreach (var (model, unreached) in _unreached)
            {
                if (unreached == backend)
                {
                    (due ??= []).Add(model);
                }
            }
        }

        foreach (var model in due ?? [])
        {
            Request(model, backend, Preload, restart: false);
        }
    }

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        // A periodic timer is armed from its creation: a tick is not lost while the previous
        // round's loads are still running.
        using var timer = new PeriodicTimer(_pingInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var model in _models)
                {
                    foreach (var backend in model.Backends)
                    {
                        if (!backend.Health.IsDown)
                        {
                            Request(model, backend, Ping, restart: false);
                        }
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
    /// Starts a load of <paramref name="model"/> on <paramref name="backend"/>. One runs per model
    /// and server at a time: a ping that comes while a slow load still runs has nothing to add;
    /// with <paramref name="restart"/>, the running one is cut and a new one follows it.
    /// </summary>
    private void Request(ModelRoute model, Backend backend, string reason, bool restart)
    {
        Running running;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            if (_running.TryGetValue((model, backend), out var current))
            {
                if (restart)
                {
                    current.Again = true;
                    current.Cancel.Cancel();
                }
                else
                {
                    Log.StillLoading(_logger, model.Name, backend.DisplayName, reason);
                }

                return;
            }

            running = new Running(CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
            _running.Add((model, backend), running);
            _unreached.Remove((model, backend));
        }

        if (reason == Ping)
        {
            Log.Pinging(_logger, model.Name, backend.DisplayName);
        }
        else
        {
            Log.Loading(_logger, model.Name, backend.DisplayName);
        }

        _ = RunAsync(model, backend, reason, running);
    }

    private async Task RunAsync(ModelRoute model, Backend backend, string reason, Running running)
    {
        await Task.Yield();
        var started = Stopwatch.GetTimestamp();
        LoadResult result;
        try
        {
            result = await LoadAsync(model, backend, running.Cancel.Token);
        }
#pragma warning disable CA1031 // Nobody awaits this task: what it did not expect is reported as a failed load, not lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            result = new LoadResult(ex.Message, Unreached: false);
        }

        bool again;
        lock (_lock)
        {
            // Done before it is reported: whoever reacts to the report may start the next load.
            _running.Remove((model, backend));
            again = running.Again && !_stopped;
            if (result.Unreached && !running.Cancel.IsCancellationRequested)
            {
                _unreached.Add((model, backend));
            }
        }

        running.Cancel.Dispose();
        running.Done.SetResult();
        if (again)
        {
            Request(model, backend, Preload, restart: false);
            return;
        }

        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _metrics.RecordModelLoad(model.Name, backend.Id, reason, result.Problem is null);
        if (result.Problem is not null)
        {
            Log.LoadFailed(_logger, model.Name, backend.DisplayName, reason, result.Problem);
            return;
        }

        // Routing prefers a server with the model loaded; no need to wait for its next /api/ps.
        backend.Health.MarkLoaded(model.Canonical);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (reason == Ping)
        {
            Log.Pinged(_logger, model.Name, backend.DisplayName, seconds);
        }
        else
        {
            Log.Loaded(_logger, model.Name, backend.DisplayName, seconds, model.Defaults.KeepAliveText ?? "server default",
                model.Defaults.NumCtx?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "server default");
        }
    }

    /// <summary>Sends the load request: no problem when the model is loaded; else why not, and whether the server was out of reach.</summary>
    private async Task<LoadResult> LoadAsync(ModelRoute model, Backend backend, CancellationToken cancellationToken)
    {
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
                embedding = _embeddingModels.Contains((model, backend));
            }

            var (status, error) = await SendAsync(backend, embedding ? "/api/embed" : "/api/generate", body, linked.Token);
            if (!embedding && status == 400 && error?.Contains("does not support generate", StringComparison.Ordinal) == true)
            {
                (status, error) = await SendAsync(backend, "/api/embed", body, linked.Token);
                if (status is >= 200 and < 300)
                {
                    lock (_lock)
                    {
                        _embeddingModels.Add((model, backend));
                    }
                }
            }

            return new LoadResult(status is >= 200 and < 300 ? null : $"{status}: {error}", Unreached: false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return timeout.IsCancellationRequested
                ? new LoadResult($"no answer within {_loadTimeout.TotalSeconds:0.###} s", Unreached: false)
                : new LoadResult(Forwarding.StreamForwarder.Describe(ex), Unreached: true);
        }
    }

    // {"model":NAME,"keep_alive":V,"options":{"num_ctx":N}}: the fragments every proxied request
    // of the model gets, so the loaded instance is the one those requests want (a different
    // num_ctx would make Ollama load it again).
    private static byte[] LoadRequestBody(ModelRoute model)
    {
        var defaults = model.Defaults;
        var body = new byte[10 + model.NameAsJsonString.Length + defaults.KeepAliveMember.Length + defaults.OptionsMember.Length];
        var length = 0;
        Append(body, ref length, "{\"model\":"u8);
        Append(body, ref length, model.NameAsJsonString.Span);
        Append(body, ref length, defaults.KeepAliveMember.Span);
        Append(body, ref length, defaults.OptionsMember.Span);
        Append(body, ref length, "}"u8);
        return body[..length];
    }

    private static void Append(byte[] body, ref int length, ReadOnlySpan<byte> part)
    {
        part.CopyTo(body.AsSpan(length));
        length += part.Length;
    }

    private static async Task<(int Status, string? Error)> SendAsync(Backend backend, string path, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, backend.CreateUri(path, null))
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await backend.Invoker.SendAsync(request, cancellationToken);
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

    /// <summary>A load in flight: cut it to send a new one (<see cref="Again"/>) or on stop.</summary>
    private sealed class Running(CancellationTokenSource cancel)
    {
        public CancellationTokenSource Cancel { get; } = cancel;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Again { get; set; }
    }

    private readonly record struct LoadResult(string? Problem, bool Unreached);

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ModelLoaded, LogLevel.Information, "Model {Model} loaded on {Backend} in {Seconds:0.###} s (keep-alive {KeepAlive}, num_ctx {NumCtx})", EventName = "ModelLoaded")]
        public static partial void Loaded(ILogger logger, string model, string backend, double seconds, string keepAlive, string numCtx);

        [LoggerMessage(LogEventIds.ModelLoading, LogLevel.Information, "Loading model {Model} on {Backend}", EventName = "ModelLoading")]
        public static partial void Loading(ILogger logger, string model, string backend);

        [LoggerMessage(LogEventIds.ModelPinging, LogLevel.Debug, "Keeping model {Model} loaded on {Backend}", EventName = "ModelPinging")]
        public static partial void Pinging(ILogger logger, string model, string backend);

        [LoggerMessage(LogEventIds.ModelPinged, LogLevel.Debug, "Model {Model} kept loaded on {Backend} ({Seconds:0.###} s)", EventName = "ModelPinged")]
        public static partial void Pinged(ILogger logger, string model, string backend, double seconds);

        [LoggerMessage(LogEventIds.ModelLoadFailed, LogLevel.Warning, "Could not load model {Model} on {Backend} ({Reason}): {Problem}", EventName = "ModelLoadFailed")]
        public static partial void LoadFailed(ILogger logger, string model, string backend, string reason, string problem);

        [LoggerMessage(LogEventIds.ModelStillLoading, LogLevel.Debug, "Model {Model} is still loading on {Backend}; {Reason} skipped", EventName = "ModelStillLoading")]
        public static partial void StillLoading(ILogger logger, string model, string backend, string reason);
    }
}
