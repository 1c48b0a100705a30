using Gollamas.Config;
using Microsoft.Extensions.Logging;

namespace Gollamas.Connections;

/// <summary>
/// One configured connection (a <c>--connection</c>, or a URL in a <c>--proxy</c>): the Ollama
/// server it reaches and its pool of keep-alive channels. Long-lived: it belongs to the
/// <see cref="ConnectionRegistry"/>, outside any snapshot, so its health, gate, pool, loaded models
/// and model statistics survive a swap of the configuration that names it. Once retired it takes no new use; the uses
/// in progress finish, then its pool and client are closed.
/// </summary>
internal sealed class Connection : IDisposable
{
    private const int Open = 0;
    private const int Retiring = 1;
    private const int ClosedState = 2;

    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private int _uses;
    private int _state;
    private IReadOnlyList<ModelName>? _listed;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ModelActivity> _activity = new(StringComparer.OrdinalIgnoreCase);
    private int _modelsLoading;
    private ModelActivity? _lastActivity;

    /// <param name="config">The connection as configured.</param>
    /// <param name="settings">Its pool, health and concurrency settings.</param>
    /// <param name="position">Its place among every connection, from 1: how an unnamed one is named to clients.</param>
    /// <param name="poolLogger">For its pool's Debug messages; none when null.</param>
    public Connection(ConnectionConfig config, ConnectionSettings settings, int position, ILogger? poolLogger = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(position, 1);
        Id = config.Id;
        BaseUri = config.BaseUri;
        PublicName = config.IsExplicit ? $"connection '{config.Id}'" : $"connection {position}";
        DisplayName = config.IsExplicit ? $"'{config.Id}' ({config.BaseUri})" : config.BaseUri.ToString();
        FixedHeaderNames = [.. config.Headers.Select(static h => h.Name)];
        SendsCredentials = config.Credentials is not null || SetsHeader("Authorization");
        Pool = new UpstreamPool(BaseUri, settings, poolLogger, config.Trust?.Certificates);

        // The operator's fields: Basic credentials from the URL, then --connection-header ones.
        var extra = new System.Text.StringBuilder();
        if (config.Credentials is { } credentials)
        {
            extra.Append("Authorization: ").Append(credentials.AuthorizationValue).Append("\r\n");
        }

        foreach (var header in config.Headers)
        {
            extra.Append(header.Name).Append(": ").Append(header.Value).Append("\r\n");
        }

        // Off the hot path too, a plain pass-through client on the same pool: no proxy from the
        // environment, no redirects, no decompression, no cookies, and the pool's connect timeout.
        Invoker = new HttpMessageInvoker(new UpstreamMessageHandler(Pool, extra.ToString()), disposeHandler: true);
        Health = new ConnectionHealth(settings.FailuresBeforeDown);
        Gate = new ConcurrencyGate(settings.ConcurrencyLimit, settings.QueueLength);
        FixedRequestHeaders = System.Text.Encoding.ASCII.GetBytes($"Host: {BaseUri.Authority}\r\n{extra}");
    }

    /// <summary>The limit on requests in flight there, and the queue in front of it.</summary>
    public ConcurrencyGate Gate { get; }

    /// <summary>Up or down, and the models loaded there.</summary>
    public ConnectionHealth Health { get; }

    /// <summary>
    /// The models the server last listed (its <c>/api/tags</c>, read by model discovery), in its
    /// order; null until they were read. A snapshot built from now on routes them (those its
    /// discovery rule admits); the snapshots before keep the list they were built with.
    /// </summary>
    public IReadOnlyList<ModelName>? Listed => Volatile.Read(ref _listed);

    /// <summary>Takes the server's new list of models; whether it differs from the one before (as a set, in any order).</summary>
    public bool SetListed(IReadOnlyList<ModelName> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        var before = Interlocked.Exchange(ref _listed, models);
        return before is null || !SameModels(before, models);
    }

    // Loops, not LINQ over ModelName (a struct, which each LINQ operator would be compiled for).
    private static bool SameModels(IReadOnlyList<ModelName> a, IReadOnlyList<ModelName> b)
    {
        var left = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var model in a)
        {
            left.Add(model.Canonical);
        }

        var right = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var model in b)
        {
            right.Add(model.Canonical);
        }

        return left.SetEquals(right);
    }

    /// <summary>
    /// The live load of <paramref name="canonicalModel"/> here (created at its first use). Only
    /// routes' canonical names come here, and only of configured or discovered models (a model
    /// routed because it runs has no entry): the set is bounded by the configuration.
    /// </summary>
    public ModelActivity Activity(string canonicalModel)
    {
        // A route's name is one string for the life of its snapshot: the entry found last is
        // tried first, by reference, before the dictionary hashes the name (case-insensitively).
        var last = _lastActivity;
        if (last is not null && ReferenceEquals(last.FoundBy, canonicalModel))
        {
            return last;
        }

        var activity = _activity.TryGetValue(canonicalModel, out var found) ? found : _activity.GetOrAdd(canonicalModel, static (_, owner) => new ModelActivity(owner), this);
        activity.FoundBy = canonicalModel;
        _lastActivity = activity;
        return activity;
    }

    /// <summary>
    /// Models loading here for generations the proxy sent (<see cref="ModelActivity.IsLoading"/>):
    /// a server loads one model at a time, so a new load waits for these.
    /// </summary>
    public int ModelsLoading => Volatile.Read(ref _modelsLoading);

    internal void CountLoading(int change) => Interlocked.Add(ref _modelsLoading, change);

    /// <summary>The live load of every model that has had one here, by canonical name (for /metrics).</summary>
    public IEnumerable<KeyValuePair<string, ModelActivity>> Activities => _activity;

    /// <summary>The last minute's requests here, every model together, for the status.</summary>
    public RecentRates Recent { get; } = new();

    /// <summary>What the generations served here said about each model: load time, rates, service time.</summary>
    public ModelStatistics Statistics { get; } = new();

    /// <summary>Keep-alive connections for every request to this server: forwarded ones and <see cref="Invoker"/>'s.</summary>
    public UpstreamPool Pool { get; }

    /// <summary>
    /// The header field lines every forwarded request carries whatever the client sent, encoded
    /// once (ASCII, each ending in CRLF): <c>Host</c> (the server's own authority), then
    /// <c>Authorization</c> with Basic credentials when the connection's URL carries a user and
    /// password, then the connection's own fields (--connection-header). They may hold a secret:
    /// never log them.
    /// </summary>
    public ReadOnlyMemory<byte> FixedRequestHeaders { get; }

    /// <summary>
    /// Whether the connection's URL carried a user and password, sent as Basic authentication:
    /// then the client's own credential headers never go to this server, so it receives exactly
    /// one Authorization field, the operator's.
    /// </summary>
    public bool SendsCredentials { get; }

    /// <summary>The names of the --connection-header fields: a client's field of the same name is not passed on.</summary>
    public string[] FixedHeaderNames { get; }

    /// <summary>Whether the connection sends its own <paramref name="name"/> field (any case).</summary>
    public bool SetsHeader(string name)
    {
        foreach (var fixedName in FixedHeaderNames)
        {
            if (string.Equals(fixedName, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Connection id: the operator's, or <c>host:port</c> for a connection declared only by a
    /// proxy entry (see <see cref="ConnectionConfig"/>). The metric label and the access log's name.
    /// </summary>
    public string Id { get; }

    /// <summary>The server's root, where Ollama's API is (<c>http://host:port/</c>); never with a user or password.</summary>
    public Uri BaseUri { get; }

    /// <summary>
    /// How messages to clients name this server: <c>connection 'gpu1'</c>, or <c>connection 2</c>
    /// (its position) when the operator gave it no id. Never its URL: a client of the proxy has
    /// no business knowing the internal addresses behind it.
    /// </summary>
    public string PublicName { get; }

    /// <summary>
    /// How the log names this server: its URL (without user or password), after its id when the
    /// operator gave one. Never shown to clients; the start-up log maps it to <see cref="PublicName"/>.
    /// </summary>
    public string DisplayName { get; }

    /// <summary>
    /// The client for the few requests off the hot path (lists, version, show, health probes),
    /// on <see cref="Pool"/>; see <see cref="UpstreamMessageHandler"/>. Its responses come with the
    /// body read whole.
    /// </summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>Requests currently being forwarded to this server.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Whether the server was retired: no new use is granted, and its pool closes after the last one.</summary>
    public bool IsRetired => Volatile.Read(ref _state) != Open;

    /// <summary>Whether its pool and client are closed: retired, and its last use ended (or the process stops).</summary>
    public bool IsClosed => Volatile.Read(ref _state) == ClosedState;

    /// <summary>Completes once <see cref="IsClosed"/>.</summary>
    public Task Closed => _closed.Task;

    /// <summary>
    /// Takes a use of the server (a request waiting for or holding its gate, a probe, a list, a
    /// load): while any is held, a retired server keeps its pool open. False once it is retired:
    /// the caller must not touch <see cref="Pool"/> or <see cref="Invoker"/>. Every true is paired
    /// with one <see cref="Release"/>.
    /// </summary>
    public bool TryAcquire()
    {
        // Counted first, state read second; Retire writes its state first and reads the count
        // second: of two racing sides at least one sees the other (every step is a full fence),
        // so a use granted here is always seen by whoever would close the pool.
        Interlocked.Increment(ref _uses);
        if (Volatile.Read(ref _state) == Open)
        {
            return true;
        }

        Release();
        return false;
    }

    /// <summary>Ends a use; the last one of a retired server closes its pool.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _uses) == 0 && Volatile.Read(ref _state) == Retiring)
        {
            CloseOnce();
        }
    }

    /// <summary>
    /// Stops granting uses; the pool closes when the uses in progress have ended (at once when
    /// there are none). Called by <see cref="ConnectionRegistry"/> only.
    /// </summary>
    internal void Retire()
    {
        if (Interlocked.CompareExchange(ref _state, Retiring, Open) == Open && Volatile.Read(ref _uses) == 0)
        {
            CloseOnce();
        }
    }

    /// <summary>
    /// Takes the settings of a new snapshot that names it: its concurrency limit and queue, its
    /// pool's connect timeout, and the failures in a row that mark it down. Requests already past
    /// the gate keep their slot.
    /// </summary>
    internal void Apply(ConnectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Gate.SetLimits(settings.ConcurrencyLimit, settings.QueueLength);
        Pool.Settings = settings;
        Health.FailuresBeforeDown = settings.FailuresBeforeDown;
    }

    private void CloseOnce()
    {
        if (Interlocked.CompareExchange(ref _state, ClosedState, Retiring) == Retiring)
        {
            Invoker.Dispose();
            Pool.Dispose();
            _closed.TrySetResult();
        }
    }

    /// <summary>The absolute upstream URI for a path (leading '/') and query string.</summary>
    public Uri CreateUri(string path, string? query) =>
        new(BaseUri, string.Concat(path.AsSpan(1), query));

    public void OnRequestStarted() => Interlocked.Increment(ref _inFlight);

    public void OnRequestEnded() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Closes the pool and client now, uses or not: the process is stopping.</summary>
    public void Dispose()
    {
        Interlocked.CompareExchange(ref _state, Retiring, Open);
        CloseOnce();
    }
}
