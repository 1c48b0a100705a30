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

    public Backend(ConnectionConfig config, BackendSettings settings, ILogger? poolLogger = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        Id = config.Id;
        BaseUri = config.BaseUri;
        DisplayName = config.IsExplicit ? $"'{config.Id}' ({config.BaseUri})" : config.BaseUri.ToString();
        Pool = new UpstreamPool(BaseUri, settings, poolLogger);

        // Off the hot path too, a plain pass-through client on the same pool: no proxy from the
        // environment, no redirects, no decompression, no cookies, and the pool's connect timeout.
        Invoker = new HttpMessageInvoker(new UpstreamMessageHandler(Pool), disposeHandler: true);
        Health = new BackendHealth(settings.FailuresBeforeDown);
        Gate = new ConcurrencyGate(settings.ConcurrencyLimit, settings.QueueLength);
        HostHeader = System.Text.Encoding.ASCII.GetBytes($"Host: {BaseUri.Authority}\r\n");
        PathPrefix = BaseUri.AbsolutePath.TrimEnd('/');
    }

    /// <summary>The limit on requests in flight there, and the queue in front of it.</summary>
    public ConcurrencyGate Gate { get; }

    /// <summary>Up or down, and the models loaded there.</summary>
    public BackendHealth Health { get; }

    /// <summary>Keep-alive connections for every request to this server: forwarded ones and <see cref="Invoker"/>'s.</summary>
    public UpstreamPool Pool { get; }

    /// <summary>The <c>Host</c> field line for upstream requests: the server's own authority.</summary>
    public ReadOnlyMemory<byte> HostHeader { get; }

    /// <summary>The base URI's path without its trailing '/': "" for a server at the root.</summary>
    public string PathPrefix { get; }

    /// <summary>Connection id; the URL text for connections declared only by a proxy entry.</summary>
    public string Id { get; }

    /// <summary>Base URI, always ending in '/'.</summary>
    public Uri BaseUri { get; }

    /// <summary>How logs and error messages name this server.</summary>
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
