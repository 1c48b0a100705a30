using System.Text.Json;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Forwarding;
using Gollamas.Routing;
using Microsoft.Extensions.Logging;

namespace Gollamas.Backends;

/// <summary>
/// Probes every connection in the background (GET /api/version, bounded by the probe timeout,
/// every interval) and reads its /api/ps, and takes the outcome of every forwarded request: a
/// server that fails N times in a row is marked down and skipped; it keeps being probed and is
/// back on its first success. Each change of state is logged once.
/// </summary>
internal sealed partial class HealthMonitor : IAsyncDisposable
{
    private readonly IReadOnlyList<Backend> _backends;
    private readonly HealthOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task[] _loops = [];

    public HealthMonitor(IReadOnlyList<Backend> backends, HealthOptions options, TimeProvider time, ILogger<HealthMonitor> logger)
    {
        _backends = backends;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised after each background probe of a connection (tests wait on it).</summary>
    public event Action<Backend>? Probed;

    /// <summary>Raised when a connection that was marked down is up again (a probe or a request succeeded).</summary>
    public event Action<Backend>? CameUp;

    /// <summary>Raised after each probe the server answered.</summary>
    public event Action<Backend>? ProbeSucceeded;

    /// <summary>What a client told that every route is down should wait before trying again.</summary>
    public TimeSpan RetryAfter => _options.Interval;

    /// <summary>Starts one probe loop per connection.</summary>
    public void Start()
    {
        _loops = _backends.Select(backend => LoopAsync(backend, _stopping.Token)).ToArray();
    }

    /// <summary>Takes the outcome of a forwarded request into the server's state.</summary>
    public void RecordRequest(Backend backend, ForwardOutcome outcome, ModelRoute route, bool loadsModel)
    {
        switch (outcome)
        {
            case ForwardOutcome.Success:
                Succeeded(backend);
                if (loadsModel)
                {
                    backend.Health.MarkLoaded(route.Canonical);
                }

                break;
            case ForwardOutcome.BackendRefused:
                // It answered (busy, or a failing runner): alive, whatever the status said.
                Succeeded(backend);
                break;
            case ForwardOutcome.BackendUnreachable:
            case ForwardOutcome.BackendTimedOut:
            case ForwardOutcome.BackendStreamBroken:
                Failed(backend, outcome.ToString());
                break;
        }
    }

    /// <summary>One probe of one connection now.</summary>
    public async Task ProbeAsync(Backend backend, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using (var request = new HttpRequestMessage(HttpMethod.Get, backend.CreateUri("/api/version", null)))
            using (var response = await backend.Invoker.SendAsync(request, linked.Token))
            {
                if (!response.IsSuccessStatusCode)
                {
                    Failed(backend, $"/api/version answered {(int)response.StatusCode}");
                    return;
                }
            }

            Succeeded(backend);
            await ReadRunningModelsAsync(backend, linked.Token);
            ProbeSucceeded?.Invoke(backend);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                Failed(backend, ex is OperationCanceledException ? $"no answer within {_options.Timeout.TotalSeconds:0.###} s" : StreamForwarder.Describe(ex));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops);
        _stopping.Dispose();
    }

    private async Task LoopAsync(Backend backend, CancellationToken cancellationToken)
    {
        try
        {
            // Servers start out up: the first probe comes one interval after start, and a server
            // that is down at start is found by its first request or that probe.
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_options.Interval, _time, cancellationToken);
                await ProbeAsync(backend, cancellationToken);
                Probed?.Invoke(backend);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static async Task ReadRunningModelsAsync(Backend backend, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, backend.CreateUri("/api/ps", null));
            using var response = await backend.Invoker.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(body, default, cancellationToken);
            var loaded = new List<string>();
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("models"u8, out var models)
                && models.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in models.EnumerateArray())
                {
                    if (entry.ValueKind == JsonValueKind.Object
                        && Endpoints.ListedModel.ReadName(entry) is { } name
                        && ModelName.TryParse(name, out var parsed))
                    {
                        loaded.Add(parsed.Canonical);
                    }
                }
            }

            backend.Health.SetLoaded(loaded);
        }
        catch (JsonException)
        {
            // An unreadable /api/ps says nothing about what is loaded; keep what we knew.
        }
    }

    private void Succeeded(Backend backend)
    {
        if (backend.Health.RecordSuccess())
        {
            Log.Up(_logger, backend.DisplayName);
            CameUp?.Invoke(backend);
        }
    }

    private void Failed(Backend backend, string reason)
    {
        if (backend.Health.RecordFailure())
        {
            Log.Down(_logger, backend.DisplayName, backend.Health.ConsecutiveFailures, reason);
        }
        else
        {
            Log.Failure(_logger, backend.DisplayName, reason);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.BackendDown, LogLevel.Warning, "Ollama server {Backend} is down after {Failures} failures in a row (last: {Reason}); skipped until a probe succeeds", EventName = "BackendDown")]
        public static partial void Down(ILogger logger, string backend, int failures, string reason);

        [LoggerMessage(LogEventIds.BackendUp, LogLevel.Information, "Ollama server {Backend} is up again", EventName = "BackendUp")]
        public static partial void Up(ILogger logger, string backend);

        [LoggerMessage(LogEventIds.BackendProbeFailed, LogLevel.Debug, "Ollama server {Backend} failed: {Reason}", EventName = "BackendProbeFailed")]
        public static partial void Failure(ILogger logger, string backend, string reason);
    }
}
