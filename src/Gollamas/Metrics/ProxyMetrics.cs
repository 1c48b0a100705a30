using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Gollamas.Bodies;
using Gollamas.Connections;
using Gollamas.Diagnostics;

namespace Gollamas.Metrics;

/// <summary>
/// Counters and histograms in Prometheus' text exposition format, written by hand: requests by
/// endpoint, model, connection and status code; time to first byte and duration, by endpoint and
/// by model and connection; failovers, queue rejections and waits; prompt and
/// generated tokens read from the final chunk; what Ollama's final chunk says of each generation
/// (cold loads, load time, prompt and generation rates) and the time to first token, by model and
/// connection; upstream errors by kind; and, read at scrape time, requests in flight, waiting and
/// health per connection, with its transitions; the build and the process (<see cref="ProcessMetrics"/>). Labels come from the configuration (endpoints, models, connection ids),
/// so their number is bounded; the one exception, models routed because they run
/// (<c>--allow-running</c>), is bounded here.
/// </summary>
internal sealed class ProxyMetrics
{
    /// <summary>
    /// Distinct running-model names the model label takes; past them, <see cref="OtherRunningModels"/>.
    /// A model must be loaded on a connection to be routed at all, so a real fleet stays far below;
    /// the bound stops a long-lived process collecting series for every model it ever saw loaded.
    /// </summary>
    public const int MaxRunningModelLabels = 100;

    /// <summary>
    /// The model label of running models past the bound. Parenthesised so it can never be a
    /// model's name: Ollama names cannot hold '(' (and a configured model "other" stays itself).
    /// </summary>
    public const string OtherRunningModels = "(other)";

    private readonly ConcurrentDictionary<string, byte> _runningModelLabels = new(StringComparer.Ordinal);
    private readonly Lock _runningModelLabelsLock = new();

    // Seconds: from a cached answer to a cold model load and a long generation.
    private static readonly double[] s_buckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    // Seconds: a cold load, from a small model off a fast disk to a large one over a network share.
    private static readonly double[] s_loadBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

    private readonly ConcurrentDictionary<RequestKey, long[]> _requests = new();
    private readonly ConcurrentDictionary<string, Histogram> _firstByte = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Histogram> _duration = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Model, string Connection), ModelSeries> _series = new();
    private readonly ConcurrentDictionary<(string Connection, string Kind), long[]> _upstreamErrors = new();
    private readonly ConcurrentDictionary<ModelLoadKey, long[]> _modelLoads = new();
    private readonly ConcurrentDictionary<(string Model, string Connection), long[]> _failovers = new();
    private readonly ConcurrentDictionary<(string Connection, string Kind), long[]> _queueRejections = new();
    private readonly ConcurrentDictionary<string, Histogram> _queueWait = new(StringComparer.Ordinal);
    private long _configReloads;
    private long _configReloadFailures;
    private long _configLoadedAtMilliseconds;

    /// <summary>Where request bodies are kept; its counters are read at scrape time.</summary>
    public BodyStore? Bodies { get; init; }

    /// <summary>Takes a finished request into the counters (once, when it ends).</summary>
    public void RecordRequest(RequestRecord record, int status)
    {
        var endpoint = record.Endpoint ?? "other";
        var running = record.ResolvedModel is not null && record.ResolvedModelIsRunning;
        var model = running ? RunningModelLabel(record.ResolvedModel!) : record.ResolvedModel ?? "";

        // A stream broken after its 200 left counts as the error it was, not as the 200.
        var code = record.FailedAfterStart != 0 ? record.FailedAfterStart : status;
        var key = new RequestKey(endpoint, model, record.Connection ?? "", code);
        Interlocked.Increment(ref _requests.GetOrAdd(key, static _ => new long[1])[0]);
        var end = Stopwatch.GetTimestamp();
        var duration = Stopwatch.GetElapsedTime(record.Started, end).TotalSeconds;
        var firstByte = record.FirstByte == 0 ? duration : Stopwatch.GetElapsedTime(record.Started, record.FirstByte).TotalSeconds;
        _duration.GetOrAdd(endpoint, static _ => new Histogram(s_buckets)).Observe(duration);
        _firstByte.GetOrAdd(endpoint, static _ => new Histogram(s_buckets)).Observe(firstByte);
        if (record.Connection is not { } connection || record.ResolvedModel is null)
        {
            return;
        }

        // One lookup for everything of the model on its connection (a struct key of two strings:
        // nothing allocated once the series exists). The timing histograms of a model routed
        // because it runs go to "(other)": histograms are many series each, and their models
        // are the configured and discovered ones only.
        var series = _series.GetOrAdd((model, connection), static _ => new ModelSeries());
        var timing = running && model != OtherRunningModels ? _series.GetOrAdd((OtherRunningModels, connection), static _ => new ModelSeries()) : series;
        timing.FirstByte.Observe(firstByte);
        timing.Duration.Observe(duration);
        if (record.PromptTokens > 0 || record.GeneratedTokens > 0)
        {
            series.AddTokens(record.PromptTokens, record.GeneratedTokens);
        }

        if (record.TimeToFirstToken is { } firstToken)
        {
            series.FirstToken.Observe(firstToken.TotalSeconds);
        }

        if (record.FinalChunk.Statistics is { IsPresent: true } statistics)
        {
            series.Generations.Observe(statistics);
        }
    }

    /// <summary>
    /// A request moved from <paramref name="from"/> (a connection id) to another route of
    /// <paramref name="model"/>: its server failed before the answer started.
    /// </summary>
    public void RecordFailover(string model, bool modelIsRunning, string from)
    {
        var label = modelIsRunning ? RunningModelLabel(model) : model;
        Interlocked.Increment(ref _failovers.GetOrAdd((label, from), static _ => new long[1])[0]);
    }

    /// <summary>A request refused by a connection's queue: <c>full</c>, or <c>timeout</c> (it waited the whole queue timeout).</summary>
    public void RecordQueueRejection(string connection, string reason) =>
        Interlocked.Increment(ref _queueRejections.GetOrAdd((connection, reason), static _ => new long[1])[0]);

    /// <summary>A request waited <paramref name="seconds"/> in a connection's queue (only requests that queued: the others waited nothing).</summary>
    public void RecordQueueWait(string connection, double seconds) =>
        _queueWait.GetOrAdd(connection, static _ => new Histogram(s_buckets)).Observe(seconds);

    /// <summary>
    /// The model label of a running model: its canonical name while fewer than
    /// <see cref="MaxRunningModelLabels"/> names have been seen (or it is one of them), else
    /// <see cref="OtherRunningModels"/>.
    /// </summary>
    private string RunningModelLabel(string name)
    {
        if (_runningModelLabels.ContainsKey(name))
        {
            return name;
        }

        lock (_runningModelLabelsLock)
        {
            if (_runningModelLabels.Count < MaxRunningModelLabels)
            {
                _runningModelLabels.TryAdd(name, 0);
                return name;
            }
        }

        return _runningModelLabels.ContainsKey(name) ? name : OtherRunningModels;
    }

    /// <summary>The configuration in force was read at <paramref name="at"/> (at start-up).</summary>
    public void RecordConfigLoaded(DateTimeOffset at) =>
        Interlocked.Exchange(ref _configLoadedAtMilliseconds, at.ToUnixTimeMilliseconds());

    /// <summary>A reload of the configuration, put in force or refused, at <paramref name="at"/>.</summary>
    public void RecordConfigReload(bool succeeded, DateTimeOffset at)
    {
        if (succeeded)
        {
            Interlocked.Increment(ref _configReloads);
            RecordConfigLoaded(at);
        }
        else
        {
            Interlocked.Increment(ref _configReloadFailures);
        }
    }

    /// <summary>An upstream failure of one kind (unreachable, timeout, refused, broken stream).</summary>
    public void RecordUpstreamError(string connection, string kind) =>
        Interlocked.Increment(ref _upstreamErrors.GetOrAdd((connection, kind), static _ => new long[1])[0]);

    /// <summary>A load request the proxy itself sent (preload or ping), and whether the model loaded.</summary>
    public void RecordModelLoad(string model, string connection, string reason, bool loaded) =>
        Interlocked.Increment(ref _modelLoads.GetOrAdd(new ModelLoadKey(model, connection, reason, loaded), static _ => new long[1])[0]);

    /// <summary>
    /// Reads the token counts of a chunk if it is the final one: Ollama's last NDJSON object carries
    /// <c>prompt_eval_count</c> and <c>eval_count</c> with its durations (read by the record's
    /// <see cref="FinalChunkReader"/>, whatever the reads cut), the OpenAI layer's <c>usage</c> carries
    /// <c>prompt_tokens</c> and <c>completion_tokens</c>. One vectorised search per chunk for a key
    /// that only the final chunk has; nothing is parsed otherwise.
    /// </summary>
    public static void ReadTokens(ReadOnlySpan<byte> chunk, RequestRecord record)
    {
        switch (record.TokenCounts)
        {
            case TokenCounts.Ollama:
                if (record.FinalChunk.Read(chunk))
                {
                    var statistics = record.FinalChunk.Statistics;
                    record.PromptTokens = statistics.PromptEvalCount;
                    record.GeneratedTokens = statistics.EvalCount;
                }

                break;
            case TokenCounts.OpenAi:
                // Streams without include_usage end with "usage":null; some chunks carry zeros.
                ReadTokens(chunk, record, "\"completion_tokens\":"u8, "\"prompt_tokens\":"u8, zeroMeansNone: true, lastWins: false);
                break;
            case TokenCounts.InputOutput:
                ReadTokens(chunk, record, "\"output_tokens\":"u8, "\"input_tokens\":"u8, zeroMeansNone: false, lastWins: true);
                break;
        }
    }

    private static void ReadTokens(ReadOnlySpan<byte> chunk, RequestRecord record, ReadOnlySpan<byte> generatedKey, ReadOnlySpan<byte> promptKey, bool zeroMeansNone, bool lastWins)
    {
        if (!TryReadNumber(chunk, generatedKey, out var generated, lastWins) || (zeroMeansNone && generated == 0))
        {
            return;
        }

        record.GeneratedTokens = generated;
        if (TryReadNumber(chunk, promptKey, out var prompt, lastWins))
        {
            record.PromptTokens = prompt;
        }
        else if (!lastWins)
        {
            record.PromptTokens = 0;
        }
    }

    /// <summary>Writes every metric; the gauges are read from the connections now.</summary>
    public void WriteTo(StringBuilder text, IReadOnlyList<Connection> connections)
    {
        text.Append("# HELP gollamas_requests_total Requests answered, by endpoint, model, connection and status code (a stream broken after it started counts as 502, one cut by the drain as 503).\n");
        text.Append("# TYPE gollamas_requests_total counter\n");
        foreach (var (key, count) in _requests.OrderBy(static p => p.Key.ToString(), StringComparer.Ordinal))
        {
            text.Append("gollamas_requests_total{endpoint=\"").Append(Escape(key.Endpoint))
                .Append("\",model=\"").Append(Escape(key.Model))
                .Append("\",connection=\"").Append(Escape(key.Connection))
                .Append("\",code=\"").Append(key.Code.ToString(CultureInfo.InvariantCulture)).Append("\"} ")
                .Append(Volatile.Read(ref count[0]).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        WriteHistograms(text, "gollamas_time_to_first_byte_seconds", "Time from the request to the first byte of the answer, by endpoint.", _firstByte, "endpoint");
        WriteHistograms(text, "gollamas_request_duration_seconds", "Time from the request to the end of the answer, by endpoint.", _duration, "endpoint");

        var series = _series.OrderBy(static p => p.Key.Model + "\n" + p.Key.Connection, StringComparer.Ordinal).ToArray();
        text.Append("# HELP gollamas_model_time_to_first_byte_seconds Time from the request to the first byte of the answer, by model and connection (models routed because they run count as (other)).\n");
        text.Append("# TYPE gollamas_model_time_to_first_byte_seconds histogram\n");
        foreach (var ((model, connection), one) in series)
        {
            if (one.Duration.Count > 0)
            {
                one.FirstByte.WriteTo(text, "gollamas_model_time_to_first_byte_seconds", ModelConnectionLabels(model, connection));
            }
        }

        text.Append("# HELP gollamas_model_request_duration_seconds Time from the request to the end of the answer, by model and connection (models routed because they run count as (other)).\n");
        text.Append("# TYPE gollamas_model_request_duration_seconds histogram\n");
        foreach (var ((model, connection), one) in series)
        {
            if (one.Duration.Count > 0)
            {
                one.Duration.WriteTo(text, "gollamas_model_request_duration_seconds", ModelConnectionLabels(model, connection));
            }
        }

        text.Append("# HELP gollamas_prompt_tokens_total Prompt tokens evaluated, from the final chunk of each answer.\n");
        text.Append("# TYPE gollamas_prompt_tokens_total counter\n");
        foreach (var ((model, connection), one) in series)
        {
            if (one.HasTokens)
            {
                AppendModelConnection(text, "gollamas_prompt_tokens_total", model, connection).Append(one.PromptTokens.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        text.Append("# HELP gollamas_generated_tokens_total Tokens generated, from the final chunk of each answer.\n");
        text.Append("# TYPE gollamas_generated_tokens_total counter\n");
        foreach (var ((model, connection), one) in series)
        {
            if (one.HasTokens)
            {
                AppendModelConnection(text, "gollamas_generated_tokens_total", model, connection).Append(one.GeneratedTokens.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        WriteGenerations(text, series);

        text.Append("# HELP gollamas_failovers_total Requests moved to another route of their model, by model and the connection that failed them (from) before the answer started.\n");
        text.Append("# TYPE gollamas_failovers_total counter\n");
        foreach (var ((model, from), count) in _failovers.OrderBy(static p => p.Key.Model + "\n" + p.Key.Connection, StringComparer.Ordinal))
        {
            text.Append("gollamas_failovers_total{model=\"").Append(Escape(model)).Append("\",from=\"").Append(Escape(from)).Append("\"} ")
                .Append(Volatile.Read(ref count[0]).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append("# HELP gollamas_queue_rejections_total Requests a connection's queue refused (503), by reason: full, or timeout (waited the whole queue timeout).\n");
        text.Append("# TYPE gollamas_queue_rejections_total counter\n");
        foreach (var ((connection, reason), count) in _queueRejections.OrderBy(static p => p.Key.Connection + "\n" + p.Key.Kind, StringComparer.Ordinal))
        {
            text.Append("gollamas_queue_rejections_total{connection=\"").Append(Escape(connection)).Append("\",reason=\"").Append(reason).Append("\"} ")
                .Append(Volatile.Read(ref count[0]).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        WriteHistograms(text, "gollamas_queue_wait_seconds", "Time requests that queued waited for a slot on each connection (until they got one, timed out or their client left); requests that found a free slot are not counted.", _queueWait, "connection");

        text.Append("# HELP gollamas_upstream_errors_total Failures of Ollama servers, by connection and kind.\n");
        text.Append("# TYPE gollamas_upstream_errors_total counter\n");
        foreach (var ((connection, kind), count) in _upstreamErrors.OrderBy(static p => p.Key.Connection + "\n" + p.Key.Kind, StringComparer.Ordinal))
        {
            text.Append("gollamas_upstream_errors_total{connection=\"").Append(Escape(connection)).Append("\",kind=\"").Append(kind).Append("\"} ")
                .Append(Volatile.Read(ref count[0]).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (Bodies is { } bodies)
        {
            text.Append("# HELP gollamas_request_bodies_spooled_total Request bodies kept in a temporary file, by reason: size (over the in-memory threshold) or budget (memory for bodies spent).\n");
            text.Append("# TYPE gollamas_request_bodies_spooled_total counter\n");
            text.Append("gollamas_request_bodies_spooled_total{reason=\"budget\"} ").Append(bodies.SpooledByBudget.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append("gollamas_request_bodies_spooled_total{reason=\"size\"} ").Append(bodies.SpooledBySize.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append("# HELP gollamas_request_body_memory_bytes Bytes of memory request bodies hold now.\n");
            text.Append("# TYPE gollamas_request_body_memory_bytes gauge\n");
            text.Append("gollamas_request_body_memory_bytes ").Append(bodies.InMemory.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append("# HELP gollamas_config_reloads_total Reloads of the configuration (a change of its file, SIGHUP), by result: success (in force) or failure (refused, the configuration before stays).\n");
        text.Append("# TYPE gollamas_config_reloads_total counter\n");
        text.Append("gollamas_config_reloads_total{result=\"success\"} ").Append(Volatile.Read(ref _configReloads).ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("gollamas_config_reloads_total{result=\"failure\"} ").Append(Volatile.Read(ref _configReloadFailures).ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("# HELP gollamas_config_last_reload_success_timestamp_seconds When the configuration in force was read (start-up or the last successful reload), in seconds since the Unix epoch.\n");
        text.Append("# TYPE gollamas_config_last_reload_success_timestamp_seconds gauge\n");
        text.Append("gollamas_config_last_reload_success_timestamp_seconds ")
            .Append((Volatile.Read(ref _configLoadedAtMilliseconds) / 1000d).ToString(CultureInfo.InvariantCulture)).Append('\n');

        text.Append("# HELP gollamas_model_loads_total Load requests the proxy sent itself (reason preload or ping), by model, connection and result.\n");
        text.Append("# TYPE gollamas_model_loads_total counter\n");
        foreach (var ((model, connection, reason, loaded), count) in _modelLoads.OrderBy(static p => p.Key.SortKey, StringComparer.Ordinal))
        {
            text.Append("gollamas_model_loads_total{model=\"").Append(Escape(model)).Append("\",connection=\"").Append(Escape(connection))
                .Append("\",reason=\"").Append(reason).Append("\",result=\"").Append(loaded ? "loaded" : "failed").Append("\"} ")
                .Append(Volatile.Read(ref count[0]).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        WriteGauge(text, "gollamas_in_flight_requests", "Requests being forwarded to each connection now.", connections, static c => c.InFlight);
        WriteGauge(text, "gollamas_queued_requests", "Requests waiting for a slot on each connection now.", connections, static c => c.Gate.Waiting);
        WriteGauge(text, "gollamas_connection_up", "1 while a connection is up, 0 while it is marked down.", connections, static c => c.Health.IsDown ? 0 : 1);
        WriteGauge(text, "gollamas_connection_draining", "1 while an operator has a connection drained (it takes no new request), else 0.", connections, static c => c.Health.IsDraining ? 1 : 0);
        text.Append("# HELP gollamas_connection_transitions_total Times each connection was marked down (to=\"down\") or came back up (to=\"up\"), since the proxy started or the connection was configured.\n");
        text.Append("# TYPE gollamas_connection_transitions_total counter\n");
        foreach (var connection in connections)
        {
            text.Append("gollamas_connection_transitions_total{connection=\"").Append(Escape(connection.Id)).Append("\",to=\"down\"} ")
                .Append(connection.Health.WentDown.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append("gollamas_connection_transitions_total{connection=\"").Append(Escape(connection.Id)).Append("\",to=\"up\"} ")
                .Append(connection.Health.CameUp.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        ProcessMetrics.WriteTo(text);
    }

    /// <summary>
    /// The models each connection serves, by source: configured (routes of the configuration)
    /// or discovered (listed by the server, --discover), as the snapshot in force routes them.
    /// </summary>
    public static void WriteConnectionModels(StringBuilder text, IReadOnlyList<ConnectionModelCount> counts)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(counts);
        text.Append("# HELP gollamas_connection_models Models routed to each connection, by source: configured, or discovered in its /api/tags (--discover).\n");
        text.Append("# TYPE gollamas_connection_models gauge\n");
        foreach (var (connection, configured, discovered) in counts)
        {
            // (ConnectionModelCount deconstructs as the tuple it replaced.)
            text.Append("gollamas_connection_models{connection=\"").Append(Escape(connection)).Append("\",source=\"configured\"} ")
                .Append(configured.ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append("gollamas_connection_models{connection=\"").Append(Escape(connection)).Append("\",source=\"discovered\"} ")
                .Append(discovered.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    /// <summary>
    /// The route choice's view of each model on each connection: its generations in flight there
    /// through the proxy, and the last estimate of a new request's time to first token there.
    /// </summary>
    public static void WriteRouteEstimates(StringBuilder text, IReadOnlyList<RouteEstimate> rows)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(rows);
        text.Append("# HELP gollamas_model_generations_in_flight Generations of each model sent to each connection and not ended yet (waiting or running), as the route choice counts them.\n");
        text.Append("# TYPE gollamas_model_generations_in_flight gauge\n");
        foreach (var (model, connection, generations, _) in rows)
        {
            AppendModelConnection(text, "gollamas_model_generations_in_flight", model, connection).Append(generations.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append("# HELP gollamas_route_estimate_seconds The route choice's last estimate of a new request's time to first token for each model on each connection.\n");
        text.Append("# TYPE gollamas_route_estimate_seconds gauge\n");
        foreach (var (model, connection, _, estimate) in rows)
        {
            if (estimate is { } seconds)
            {
                AppendModelConnection(text, "gollamas_route_estimate_seconds", model, connection).Append(seconds.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
    }

    private static void WriteGauge(StringBuilder text, string name, string help, IReadOnlyList<Connection> connections, Func<Connection, int> value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" gauge\n");
        foreach (var connection in connections)
        {
            text.Append(name).Append("{connection=\"").Append(Escape(connection.Id)).Append("\"} ")
                .Append(value(connection).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static void WriteHistograms(StringBuilder text, string name, string help, ConcurrentDictionary<string, Histogram> histograms, string label)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" histogram\n");
        foreach (var (value, histogram) in histograms.OrderBy(static p => p.Key, StringComparer.Ordinal))
        {
            histogram.WriteTo(text, name, label + "=\"" + Escape(value) + "\"");
        }
    }

    /// <summary>
    /// What Ollama's final chunks said, by model and connection, and the time to first token.
    /// Rates are two counters each (tokens, and the seconds Ollama spent on them), so that
    /// <c>rate(tokens) / rate(seconds)</c> over any window is the rate in that window, weighted by
    /// work done: a gauge of a per-request rate could not be averaged.
    /// </summary>
    private static void WriteGenerations(StringBuilder text, KeyValuePair<(string Model, string Connection), ModelSeries>[] all)
    {
        // An array, not a list: a List of this struct would be one more instantiation in the binary.
        var present = 0;
        foreach (var (_, one) in all)
        {
            present += one.Generations.Count > 0 ? 1 : 0;
        }

        var generations = new KeyValuePair<(string Model, string Connection), GenerationSeries>[present];
        present = 0;
        foreach (var (key, one) in all)
        {
            if (one.Generations.Count > 0)
            {
                generations[present++] = KeyValuePair.Create(key, one.Generations);
            }
        }

        text.Append("# HELP gollamas_generations_total Generations (/api/generate, /api/chat) whose final chunk carried Ollama's statistics.\n");
        text.Append("# TYPE gollamas_generations_total counter\n");
        foreach (var ((model, connection), series) in generations)
        {
            AppendModelConnection(text, "gollamas_generations_total", model, connection).Append(series.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append("# HELP gollamas_cold_loads_total Generations whose load_duration was above 0.1 s: the model was loaded for them (a warm request reports a few milliseconds).\n");
        text.Append("# TYPE gollamas_cold_loads_total counter\n");
        foreach (var ((model, connection), series) in generations)
        {
            AppendModelConnection(text, "gollamas_cold_loads_total", model, connection).Append(series.ColdLoads.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append("# HELP gollamas_load_duration_seconds The load_duration of cold loads (above 0.1 s; warm requests are left out, so the count is gollamas_cold_loads_total).\n");
        text.Append("# TYPE gollamas_load_duration_seconds histogram\n");
        foreach (var ((model, connection), series) in generations)
        {
            series.Load.WriteTo(text, "gollamas_load_duration_seconds", ModelConnectionLabels(model, connection));
        }

        WriteRateCounters(text, generations, "gollamas_prompt_eval_tokens_total", "Prompt tokens processed (prompt_eval_count) of generations that also reported the time: rate() of it over rate() of gollamas_prompt_eval_seconds_total is the prompt-processing rate in tokens per second.", static s => s.PromptEvalTokens, nanoseconds: false);
        WriteRateCounters(text, generations, "gollamas_prompt_eval_seconds_total", "Seconds Ollama spent processing those prompt tokens (prompt_eval_duration).", static s => s.PromptEvalNanoseconds, nanoseconds: true);
        WriteRateCounters(text, generations, "gollamas_eval_tokens_total", "Tokens generated (eval_count) by generations that also reported the time: rate() of it over rate() of gollamas_eval_seconds_total is the generation rate in tokens per second.", static s => s.EvalTokens, nanoseconds: false);
        WriteRateCounters(text, generations, "gollamas_eval_seconds_total", "Seconds Ollama spent generating those tokens (eval_duration).", static s => s.EvalNanoseconds, nanoseconds: true);

        text.Append("# HELP gollamas_time_to_first_token_seconds Time from the request to the first bytes of a streamed generation's answer (Ollama sends none before the first token), by model and connection; answers sent whole are left out.\n");
        text.Append("# TYPE gollamas_time_to_first_token_seconds histogram\n");
        foreach (var ((model, connection), one) in all)
        {
            if (one.FirstToken.Count > 0)
            {
                one.FirstToken.WriteTo(text, "gollamas_time_to_first_token_seconds", ModelConnectionLabels(model, connection));
            }
        }
    }

    private static void WriteRateCounters(StringBuilder text, KeyValuePair<(string Model, string Connection), GenerationSeries>[] generations, string name, string help, Func<GenerationSeries, long> value, bool nanoseconds)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" counter\n");
        foreach (var ((model, connection), series) in generations)
        {
            var count = value(series);
            AppendModelConnection(text, name, model, connection)
                .Append(nanoseconds ? GenerationStatistics.Seconds(count).ToString(CultureInfo.InvariantCulture) : count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static string ModelConnectionLabels(string model, string connection) =>
        "model=\"" + Escape(model) + "\",connection=\"" + Escape(connection) + "\"";

    private static StringBuilder AppendModelConnection(StringBuilder text, string name, string model, string connection) =>
        text.Append(name).Append("{model=\"").Append(Escape(model)).Append("\",connection=\"").Append(Escape(connection)).Append("\"} ");

    // Label values escape backslash, double quote and new line (exposition format).
    private static string Escape(string value) =>
        value.AsSpan().IndexOfAny("\\\"\n") < 0 ? value : value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static bool TryReadNumber(ReadOnlySpan<byte> chunk, ReadOnlySpan<byte> key, out long value, bool last)
    {
        value = 0;
        var at = last ? chunk.LastIndexOf(key) : chunk.IndexOf(key);
        return at >= 0 && Utf8Parser.TryParse(chunk[(at + key.Length)..], out value, out _) && value >= 0;
    }

    // A class, not a tuple: a dictionary keyed by a reference type shares the native code every
    // other such dictionary uses; a four-field value tuple would bring its own (about 30 KB).
    private sealed record ModelLoadKey(string Model, string Connection, string Reason, bool Loaded)
    {
        public string SortKey => $"{Model}\n{Connection}\n{Reason}\n{Loaded}";
    }

    private readonly record struct RequestKey(string Endpoint, string Model, string Connection, int Code);

    /// <summary>
    /// Everything counted of one model on one connection, found with one lookup per request:
    /// time to first byte and duration, tokens, time to first token, Ollama's final chunks.
    /// Each part is written only once something was counted in it.
    /// </summary>
    private sealed class ModelSeries
    {
        private long _promptTokens;
        private long _generatedTokens;
        private int _hasTokens;

        public Histogram FirstByte { get; } = new(s_buckets);

        public Histogram Duration { get; } = new(s_buckets);

        public Histogram FirstToken { get; } = new(s_buckets);

        public GenerationSeries Generations { get; } = new();

        public bool HasTokens => Volatile.Read(ref _hasTokens) != 0;

        public long PromptTokens => Volatile.Read(ref _promptTokens);

        public long GeneratedTokens => Volatile.Read(ref _generatedTokens);

        public void AddTokens(long prompt, long generated)
        {
            Interlocked.Add(ref _promptTokens, prompt);
            Interlocked.Add(ref _generatedTokens, generated);
            if (Volatile.Read(ref _hasTokens) == 0)
            {
                Volatile.Write(ref _hasTokens, 1);
            }
        }
    }

    /// <summary>What Ollama's final chunks said for one model on one connection; updated without locks.</summary>
    private sealed class GenerationSeries
    {
        private long _count;
        private long _coldLoads;
        private long _promptEvalTokens;
        private long _promptEvalNanoseconds;
        private long _evalTokens;
        private long _evalNanoseconds;

        public Histogram Load { get; } = new(s_loadBuckets);

        public long Count => Volatile.Read(ref _count);

        public long ColdLoads => Volatile.Read(ref _coldLoads);

        public long PromptEvalTokens => Volatile.Read(ref _promptEvalTokens);

        public long PromptEvalNanoseconds => Volatile.Read(ref _promptEvalNanoseconds);

        public long EvalTokens => Volatile.Read(ref _evalTokens);

        public long EvalNanoseconds => Volatile.Read(ref _evalNanoseconds);

        public void Observe(GenerationStatistics statistics)
        {
            Interlocked.Increment(ref _count);
            if (statistics.IsColdLoad)
            {
                Interlocked.Increment(ref _coldLoads);
                Load.Observe(GenerationStatistics.Seconds(statistics.LoadDuration));
            }

            // Tokens only with their time, and time only with its tokens: the two counters of a
            // rate must count the same generations.
            if (statistics.HasPromptRate)
            {
                Interlocked.Add(ref _promptEvalTokens, statistics.PromptEvalCount);
                Interlocked.Add(ref _promptEvalNanoseconds, statistics.PromptEvalDuration);
            }

            if (statistics.HasEvalRate)
            {
                Interlocked.Add(ref _evalTokens, statistics.EvalCount);
                Interlocked.Add(ref _evalNanoseconds, statistics.EvalDuration);
            }
        }
    }

    /// <summary>A histogram with fixed buckets; counts are updated without locks.</summary>
    private sealed class Histogram(double[] buckets)
    {
        private readonly long[] _counts = new long[buckets.Length + 1];
        private long _sumMicroseconds;

        /// <summary>Observations so far (read at scrape time).</summary>
        public long Count
        {
            get
            {
                long count = 0;
                for (var i = 0; i < _counts.Length; i++)
                {
                    count += Volatile.Read(ref _counts[i]);
                }

                return count;
            }
        }

        public void Observe(double seconds)
        {
            var bucket = 0;
            while (bucket < buckets.Length && seconds > buckets[bucket])
            {
                bucket++;
            }

            Interlocked.Increment(ref _counts[bucket]);
            Interlocked.Add(ref _sumMicroseconds, (long)(seconds * 1_000_000));
        }

        /// <param name="text">Where to write.</param>
        /// <param name="name">The metric's name.</param>
        /// <param name="labels">Its labels but <c>le</c>, escaped: <c>endpoint="/api/chat"</c>.</param>
        public void WriteTo(StringBuilder text, string name, string labels)
        {
            long cumulative = 0;
            for (var i = 0; i <= buckets.Length; i++)
            {
                cumulative += Volatile.Read(ref _counts[i]);
                var bound = i < buckets.Length ? buckets[i].ToString(CultureInfo.InvariantCulture) : "+Inf";
                text.Append(name).Append("_bucket{").Append(labels).Append(",le=\"").Append(bound).Append("\"} ")
                    .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append(name).Append("_sum{").Append(labels).Append("} ")
                .Append((Volatile.Read(ref _sumMicroseconds) / 1_000_000d).ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append(name).Append("_count{").Append(labels).Append("} ")
                .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}
