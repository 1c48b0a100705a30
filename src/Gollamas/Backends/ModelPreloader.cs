using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<(ModelRoute Model, Backend Backend), Task> _loading = new();
    private readonly ConcurrentDictionary<(ModelRoute Model, Backend Backend), byte> _embeddingModels = new();
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

    /// <summary>Raised when a load request ended, with whether the model is loaded (tests wait on it).</summary>
    public event Action<ModelRoute, Backend, bool>? LoadEnded;

    /// <summary>Sends the start-up loads and starts the pings; returns at once.</summary>
    public void Start()
    {
        if (_models.Count == 0)
        {
            return;
        }

        _health.CameUp += OnServerUp;
        foreach (var model in _models)
        {
            foreach (var backend in model.Backends)
            {
                Load(model, backend, Preload);
            }
        }

        if (_pingInterval > TimeSpan.Zero)
        {
            _pings = PingAsync(_stopping.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _health.CameUp -= OnServerUp;
        await _stopping.CancelAsync();
        await _pings;
        await Task.WhenAll(_loading.Values);
        _stopping.Dispose();
    }

    private void OnServerUp(Backend backend)
    {
        foreach (var model in _models)
        {
            if (model.Backends.Contains(backend))
            {
                Load(model, backend, Preload);
            }
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
                            Load(model, backend, Ping);
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

    // One load per model and server at a time: a ping that comes while a slow load still runs
    // has nothing to add.
    private void Load(ModelRoute model, Backend backend, string reason)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_loading.TryAdd((model, backend), started.Task))
        {
            Log.StillLoading(_logger, model.Name, backend.DisplayName, reason);
            return;
        }

        if (reason == Ping)
        {
            Log.Pinging(_logger, model.Name, backend.DisplayName);
        }
        else
        {
            Log.Loading(_logger, model.Name, backend.DisplayName);
        }

        _ = RunAsync(model, backend, reason, started);
    }

    private async Task RunAsync(ModelRoute model, Backend backend, string reason, TaskCompletionSource done)
    {
        await Task.Yield();
        var started = Stopwatch.GetTimestamp();
        string? problem;
        try
        {
            problem = await LoadAsync(model, backend, _stopping.Token);
        }
#pragma warning disable CA1031 // Nobody awaits this task: what it did not expect is reported as a failed load, not lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            problem = ex.Message;
        }
        finally
        {
            // Done before it is reported: whoever reacts to the report may start the next load.
            _loading.TryRemove((model, backend), out _);
            done.SetResult();
        }

        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _metrics.RecordModelLoad(model.Name, backend.DisplayName, reason, problem is null);
        if (problem is not null)
        {
            Log.LoadFailed(_logger, model.Name, backend.DisplayName, reason, problem);
        }
        else if (reason == Ping)
        {
            Log.Pinged(_logger, model.Name, backend.DisplayName, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        else
        {
            Log.Loaded(_logger, model.Name, backend.DisplayName, Stopwatch.GetElapsedTime(started).TotalSeconds, model.Defaults.KeepAliveText ?? "server default",
                model.Defaults.NumCtx?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "server default");
        }

        LoadEnded?.Invoke(model, backend, problem is null);
    }

    /// <summary>Sends the load request; null when the model is loaded, else why not.</summary>
    private async Task<string?> LoadAsync(ModelRoute model, Backend backend, CancellationToken cancellationToken)
    {
        var body = LoadRequestBody(model);
        using var timeout = _loadTimeout > TimeSpan.Zero ? new CancellationTokenSource(_loadTimeout, _time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            // Embedding models cannot generate; Ollama loads them with an empty embed request.
            // Once a server has said so, later loads there go to /api/embed at once.
            var embedding = _embeddingModels.ContainsKey((model, backend));
            var (status, error) = await SendAsync(backend, embedding ? "/api/embed" : "/api/generate", body, linked.Token);
            if (!embedding && status == 400 && error?.Contains("does not support generate", StringComparison.Ordinal) == true)
            {
                (status, error) = await SendAsync(backend, "/api/embed", body, linked.Token);
                if (status is >= 200 and < 300)
                {
                    _embeddingModels.TryAdd((model, backend), 0);
                }
            }

            return status is >= 200 and < 300 ? null : $"{status}: {error}";
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return timeout.IsCancellationRequested
                ? $"no answer within {_loadTimeout.TotalSeconds:0.###} s"
                : Forwarding.StreamForwarder.Describe(ex);
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
