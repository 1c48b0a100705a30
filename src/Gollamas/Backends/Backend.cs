using Gollamas.Config;
using Microsoft.Extensions.Logging;

namespace Gollamas.Backends;

/// <summary>
/// One upstream Ollama server and its connection pool. Lives as long as the process, outside
/// any routing snapshot, so per-connection state survives a swap of the route table.
/// </summary>
internal sealed class Backend : IDisposable
{
    private int _inFlight;

    /// <param name="config">The connection as configured.</param>
    /// <param name="settings">Its pool, health and concurrency settings.</param>
    /// <param name="position">Its place among every connection, from 1: how an unnamed one is named to clients.</param>
    /// <param name="poolLogger">For its pool's Debug messages; none when null.</param>
    public Backend(ConnectionConfig config, BackendSettings settings, int position, ILogger? poolLogger = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(position, 1);
        Id = config.Id;
        BaseUri = config.BaseUri;
        PublicName = config.IsExplicit ? $"connection '{config.Id}'" : $"connection {position}";
        DisplayName = config.IsExplicit ? $"'{config.Id}' ({config.BaseUri})" : config.BaseUri.ToString();
        SendsCredentials = config.Credentials is not null;
        Pool = new UpstreamPool(BaseUri, settings, poolLogger);

        // Off the hot path too, a plain pass-through client on the same pool: no proxy from the
        // environment, no redirects, no decompression, no cookies, and the pool's connect timeout.
        var authorization = config.Credentials is { } credentials ? $"Authorization: {credentials.AuthorizationValue}\r\n" : "";
        Invoker = new HttpMessageInvoker(new UpstreamMessageHandler(Pool, authorization), disposeHandler: true);
        Health = new BackendHealth(settings.FailuresBeforeDown);
        Gate = new ConcurrencyGate(settings.ConcurrencyLimit, settings.QueueLength);
        HostHeader = System.Text.Encoding.ASCII.GetBytes($"Host: {BaseUri.Authority}\r\n{authorization}");
        PathPrefix = BaseUri.AbsolutePath.TrimEnd('/');
    }

    /// <summary>The limit on requests in flight there, and the queue in front of it.</summary>
    public ConcurrencyGate Gate { get; }

    /// <summary>Up or down, and the models loaded there.</summary>
    public BackendHealth Health { get; }

    /// <summary>Keep-alive connections for every request to this server: forwarded ones and <see cref="Invoker"/>'s.</summary>
    public UpstreamPool Pool { get; }

    /// <summary>
    /// The field lines every forwarded request starts with: <c>Host</c> (the server's own
    /// authority), then <c>Authorization</c> when the connection's URL carries a user and password.
    /// </summary>
    public ReadOnlyMemory<byte> HostHeader { get; }

    /// <summary>
    /// Whether the connection's URL carried a user and password, sent as Basic authentication:
    /// then the client's own credential headers never go to this server, so it receives exactly
    /// one Authorization field, the operator's.
    /// </summary>
    public bool SendsCredentials { get; }

    /// <summary>The base URI's path without its trailing '/': "" for a server at the root.</summary>
    public string PathPrefix { get; }

    /// <summary>
    /// Connection id: the operator's, or <c>host:port</c> for a connection declared only by a
    /// proxy entry (see <see cref="ConnectionConfig"/>). The metric label and the access log's name.
    /// </summary>
    public string Id { get; }

    /// <summary>Base URI, always ending in '/'; never with a user or password.</summary>
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

    /// <summary>The absolute upstream URI for a path (leading '/') and query string.</summary>
    public Uri CreateUri(string path, string? query) =>
        new(BaseUri, string.Concat(path.AsSpan(1), query));

    public void OnRequestStarted() => Interlocked.Increment(ref _inFlight);

    public void OnRequestEnded() => Interlocked.Decrement(ref _inFlight);

    public void Dispose()
    {
        Invoker.Dispose();
        Pool.Dispose();
    }
}
