using System.Text.Json;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Forwarding;
using Gollamas.Json;
using Gollamas.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gollamas.Fleet;

/// <summary>
/// Probes every connection in the background (GET /api/version, bounded by the probe timeout,
/// once at start-up and then every interval) and reads its /api/ps, and takes the outcome of
/// every forwarded request: a server that fails N times in a row is marked down and skipped; it
/// keeps being probed and is back on its first success. A failure is no connection, no answer in
/// time, or an answer of 5xx or 429; any other answer says the server works. Each change of state
/// is logged once, and a server that fails its start-up probe at once, so a wrong address shows
/// in the first lines of the log. It follows the <see cref="ConnectionRegistry"/>: a server added
/// there is probed from then on, a retired one no more.
/// </summary>
internal sealed partial class HealthMonitor : IAsyncDisposable
{
    private readonly ConnectionRegistry _connections;
    private readonly HealthOptions _options;
    private readonly bool _probeAtStart;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstRound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _firstProbesPending;

    // Under _loopsLock: the probe loop of each server probed now, and every loop started (awaited on stop).
    private readonly Lock _loopsLock = new();
    private readonly Dictionary<Connection, CancellationTokenSource> _probing = [];
    private readonly List<Task> _loops = [];
    private bool _started;
    private bool _stopped;

    /// <param name="servers">The servers to probe, as they come and go.</param>
    /// <param name="options">Interval, timeout, failures before down.</param>
    /// <param name="probeAtStart">Whether the first probe runs at once rather than one interval after start.</param>
    /// <param name="time">The clock of the probes.</param>
    /// <param name="logger">Where changes of state are logged.</param>
    public HealthMonitor(ConnectionRegistry connections, HealthOptions options, bool probeAtStart, TimeProvider time, ILogger<HealthMonitor> logger)
    {
        _connections = connections;
        _options = options;
        _probeAtStart = probeAtStart;
        _time = time;
        _logger = logger;
    }

    /// <summary>Raised after each background probe of a connection (tests wait on it).</summary>
    public event Action<Connection>? Probed;

    /// <summary>Raised when a connection that was marked down is up again (a probe or a request succeeded).</summary>
    public event Action<Connection>? CameUp;

    /// <summary>Raised after each probe the server answered.</summary>
    public event Action<Connection>? ProbeSucceeded;

    /// <summary>What a client told that every route is down should wait before trying again.</summary>
    public TimeSpan RetryAfter => _options.Interval;

    /// <summary>
    /// Completes once every connection has had its start-up probe (answered, failed or timed
    /// out), or the monitor stopped first.
    /// </summary>
    public Task FirstRound => _firstRound.Task;

    /// <summary>
    /// Starts one probe loop per connection; each probes at once, in the background. From then
    /// on, a server added to the registry gets its own loop, and a retired one's loop ends.
    /// </summary>
    public void Start()
    {
        lock (_loopsLock)
        {
            var connections = _connections.Active;
            _firstProbesPending = _probeAtStart ? connections.Count : 0;
            if (_firstProbesPending == 0)
            {
                _firstRound.TrySetResult();
            }

            _started = true;
            _connections.Changed += OnConnectionsChanged;
            foreach (var connection in connections)
            {
                StartLoop(connection, countsForFirstRound: true);
            }
        }
    }

    // Under _loopsLock.
    private void StartLoop(Connection connection, bool countsForFirstRound)
    {
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _probing.Add(connection, stop);
        _loops.Add(LoopAsync(connection, countsForFirstRound, stop.Token));
    }

    private void OnConnectionsChanged()
    {
        List<CancellationTokenSource>? ended = null;
        lock (_loopsLock)
        {
            if (!_started || _stopped)
            {
                return;
            }

            var active = _connections.Active;
            foreach (var (connection, stop) in _probing)
            {
                if (!active.Contains(connection))
                {
                    (ended ??= []).Add(stop);
                    _probing.Remove(connection);
                }
            }

            foreach (var connection in active)
            {
                if (!_probing.ContainsKey(connection))
                {
                    StartLoop(connection, countsForFirstRound: false);
                }
            }
        }

        // Outside the lock: a loop may run on from its cancellation inline.
        foreach (var stop in ended ?? [])
        {
            stop.Cancel();
            stop.Dispose();
        }
    }

    /// <summary>
    /// Takes the outcome of a forwarded request into the server's state. <paramref name="status"/>
    /// is the status the client got, read for <see cref="ForwardOutcome.Success"/> only: a 5xx or
    /// 429 passed on is a failure like any other (a server answering 503 to everything must end
    /// up down, not be kept up by its own errors); a 2xx, or a 4xx about the request (400, 404,
    /// 413, and 401/403 for a key the client sent), says the server works; only a 2xx of a request
    /// that loads the model says the model is loaded there.
    /// </summary>
    public void RecordRequest(Connection connection, ForwardOutcome outcome, int status, ModelRoute route, bool loadsModel)
    {
        switch (outcome)
        {
            case ForwardOutcome.Success when IsServerFailure(status):
                connection.Health.RecordRequestFailure(_time.GetTimestamp(), _time.TimestampFrequency);
                Failed(connection, $"a request was answered {status}");
                break;
            case ForwardOutcome.Success:
                connection.Health.RecordRequestSuccess();
                Succeeded(connection);
                if (loadsModel && status is >= 200 and < 300)
                {
                    connection.Health.MarkLoaded(route.Canonical);
                }

                break;
            case ForwardOutcome.BackendRefused:
                // A 5xx or 429 held back so another route could take the request.
                connection.Health.RecordRequestFailure(_time.GetTimestamp(), _time.TimestampFrequency);
                Failed(connection, "a request was answered with a server error or 429");
                break;
            case ForwardOutcome.BackendUnreachable:
            case ForwardOutcome.BackendTimedOut:
                connection.Health.RecordRequestFailure(_time.GetTimestamp(), _time.TimestampFrequency);
                Failed(connection, $"a request found it {ForwardOutcomeWords.Describe(outcome)}");
                break;
            case ForwardOutcome.BackendStreamBroken:
                Failed(connection, $"a request found it {ForwardOutcomeWords.Describe(outcome)}");
                break;
        }
    }

    /// <summary>Whether an answer says the server failed rather than the request: 5xx, or 429 (overloaded).</summary>
    public static bool IsServerFailure(int status) =>
        status >= StatusCodes.Status500InternalServerError || status == StatusCodes.Status429TooManyRequests;

    /// <summary>
    /// One probe of one connection now (the admin action's): null when the server answered, else
    /// why not, in words of ours.
    /// </summary>
    public Task<string?> ProbeAsync(Connection connection, CancellationToken cancellationToken) => ProbeAsync(connection, firstProbe: false, cancellationToken);

    private async Task<string?> ProbeAsync(Connection connection, bool firstProbe, CancellationToken cancellationToken)
    {
        if (!connection.TryAcquire())
        {
            return "the connection was removed from the configuration"; // retired: its loop is ending
        }

        try
        {
            var failure = await ProbeAcquiredAsync(connection, firstProbe, cancellationToken);
            connection.Health.RecordProbe(_time.GetUtcNow(), failure.Version, answered: failure.Reason is null);
            return failure.Reason;
        }
        finally
        {
            connection.Release();
        }
    }

    private async Task<(string? Reason, string? Version)> ProbeAcquiredAsync(Connection connection, bool firstProbe, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            bool readModels;
            string? version = null;
            using (var request = new HttpRequestMessage(HttpMethod.Get, connection.CreateUri("/api/version", null)))
            using (var response = await connection.Invoker.SendAsync(request, linked.Token))
            {
                var status = (int)response.StatusCode;
                if (!IsProbeAnswer(status))
                {
                    var reason = $"/api/version answered {status}";
                    Failed(connection, reason, firstProbe);
                    return (reason, null);
                }

                readModels = response.IsSuccessStatusCode;
                if (readModels)
                {
                    version = await ReadVersionAsync(response, linked.Token);
                }
            }

            Succeeded(connection);
            if (readModels)
            {
                await ReadRunningModelsAsync(connection, linked.Token);
            }

            ProbeSucceeded?.Invoke(connection);
            return (null, version);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            var reason = ex is OperationCanceledException ? $"no answer within {GoDuration.Format(_options.Timeout)}" : UpstreamFailure.Describe(ex);
            if (!cancellationToken.IsCancellationRequested)
            {
                Failed(connection, reason, firstProbe);
            }

            return (reason, null);
        }
    }

    // {"version":"0.12.3"}: what the status shows; anything else is no version.
    private static async Task<string?> ReadVersionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(body, default, cancellationToken);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(JsonNames.Version.EncodedUtf8Bytes, out var version)
                && version.ValueKind == JsonValueKind.String
                    ? version.GetString()
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // A 2xx; or 401/403 from a server behind a gateway that wants each client's own key (sent on
    // with --forward-authorization): it answered, and the clients' requests carry what it asks.
    // Anything else (404 from something that is not Ollama, 5xx, 429) is a failed probe.
    private static bool IsProbeAnswer(int status) =>
        status is >= 200 and < 300 or StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden;

    public async ValueTask DisposeAsync()
    {
        Task[] loops;
        CancellationTokenSource[] stops;
        lock (_loopsLock)
        {
            _stopped = true;
            _connections.Changed -= OnConnectionsChanged;
            loops = [.. _loops];
            stops = [.. _probing.Values];
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(loops);
        foreach (var stop in stops)
        {
            stop.Dispose();
        }

        _firstRound.TrySetResult();
        _stopping.Dispose();
    }

    private async Task LoopAsync(Connection connection, bool countsForFirstRound, CancellationToken cancellationToken)
    {
        // Armed before the first probe, and a periodic timer keeps a tick that comes while a
        // probe still runs: a slow probe delays the next one, it never skips a round.
        using var timer = new PeriodicTimer(_options.Interval, _time);
        var first = _probeAtStart && countsForFirstRound;
        try
        {
            if (_probeAtStart)
            {
                // Off the caller's thread: start-up does not wait for any server. A server added
                // later is probed at once too, outside the start-up round.
                await Task.Yield();
                await ProbeAsync(connection, firstProbe: true, cancellationToken);
                Probed?.Invoke(connection);

                // After the event: whoever waits for the first round takes no start-up probe for a later one.
                if (first)
                {
                    first = false;
                    FirstProbeDone();
                }
            }

            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await ProbeAsync(connection, firstProbe: false, cancellationToken);
                Probed?.Invoke(connection);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            if (first)
            {
                FirstProbeDone();
            }
        }
    }

    private void FirstProbeDone()
    {
        if (Interlocked.Decrement(ref _firstProbesPending) == 0)
        {
            _firstRound.TrySetResult();
        }
    }

    private static async Task ReadRunningModelsAsync(Connection connection, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, connection.CreateUri("/api/ps", null));
            using var response = await connection.Invoker.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(body, default, cancellationToken);
            var loaded = new List<string>();
            var listed = new List<LoadedModel>();
            foreach (var (entry, name) in new ModelList(document))
            {
                if (ModelName.TryParse(name, out var parsed))
                {
                    loaded.Add(parsed.Canonical);
                    listed.Add(new LoadedModel(
                        name,
                        entry.TryGetProperty("size"u8, out var size) && size.ValueKind == JsonValueKind.Number && size.TryGetInt64(out var bytes) ? bytes : null,
                        entry.TryGetProperty("expires_at"u8, out var expires) && expires.ValueKind == JsonValueKind.String ? expires.GetString() : null));
                }
            }

            connection.Health.SetLoaded(loaded, [.. listed]);
        }
        catch (JsonException)
        {
            // An unreadable /api/ps says nothing about what is loaded; keep what we knew.
        }
    }

    private void Succeeded(Connection connection)
    {
        if (connection.Health.RecordSuccess())
        {
            Log.Up(_logger, connection.DisplayName);
            CameUp?.Invoke(connection);
        }
    }

    private void Failed(Connection connection, string reason, bool firstProbe = false)
    {
        connection.Health.RecordFailureReason(_time.GetUtcNow(), reason);
        if (connection.Health.RecordFailure())
        {
            Log.Down(_logger, connection.DisplayName, connection.Health.ConsecutiveFailures, reason);
        }
        else if (firstProbe)
        {
            // A wrong address or a server not started shows at once, not after N intervals.
            Log.FirstProbeFailed(_logger, connection.DisplayName, reason);
        }
        else
        {
            Log.Failure(_logger, connection.DisplayName, reason);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.BackendDown, LogLevel.Warning, "Ollama server {Backend} is down after {Failures} failures in a row (last: {Reason}); skipped until a probe succeeds", EventName = "BackendDown")]
        public static partial void Down(ILogger logger, string backend, int failures, string reason);

        [LoggerMessage(LogEventIds.BackendUp, LogLevel.Information, "Ollama server {Backend} is up again", EventName = "BackendUp")]
        public static partial void Up(ILogger logger, string backend);

        [LoggerMessage(LogEventIds.BackendFirstProbeFailed, LogLevel.Warning, "Ollama server {Backend} failed its start-up probe: {Reason}", EventName = "BackendFirstProbeFailed")]
        public static partial void FirstProbeFailed(ILogger logger, string backend, string reason);

        [LoggerMessage(LogEventIds.BackendProbeFailed, LogLevel.Debug, "Ollama server {Backend} failed: {Reason}", EventName = "BackendProbeFailed")]
        public static partial void Failure(ILogger logger, string backend, string reason);
    }
}
