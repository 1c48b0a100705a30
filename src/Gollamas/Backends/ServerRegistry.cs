using Gollamas.Config;
using Microsoft.Extensions.Logging;

namespace Gollamas.Backends;

/// <summary>
/// Every Ollama server the proxy talks to, one <see cref="Backend"/> each (pool, health, gate,
/// requests in flight), for as long as a configuration names it: the long-lived half of the
/// state, as YARP's <c>DestinationState</c> is to its immutable <c>DestinationModel</c>.
/// </summary>
/// <remarks>
/// Ownership: one registry per process, created and disposed by the proxy server. A server is
/// known by its connection identity: its id, URL and credentials (the same id with another URL is
/// another server). Only a snapshot's construction adds servers (<see cref="GetOrAdd"/>) and
/// only the snapshot holder's swap retires them (<see cref="RetainOnly"/>); everything else reads
/// <see cref="Active"/> or a snapshot's servers, and follows <see cref="Changed"/>. A retired
/// server grants no new use; its uses in progress finish, then its pool is closed.
/// </remarks>
internal sealed class ServerRegistry : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ServerIdentity, Backend> _byIdentity = [];
    private readonly List<Backend> _retired = [];
    private readonly ILogger? _poolLogger;
    private Backend[] _active = [];
    private bool _disposed;

    /// <param name="loggerFactory">For the connection pools' Debug messages; none when null.</param>
    public ServerRegistry(ILoggerFactory? loggerFactory = null)
    {
        _poolLogger = loggerFactory?.CreateLogger<UpstreamPool>();
    }

    /// <summary>Raised after a server was added or retired (outside the registry's lock).</summary>
    public event Action? Changed;

    /// <summary>Every server not retired, in the order they were added.</summary>
    public IReadOnlyList<Backend> Active => Volatile.Read(ref _active);

    /// <summary>
    /// The server of <paramref name="config"/>'s identity: the one already registered (its state
    /// kept; a snapshot's swap pushes <paramref name="settings"/> to it), else a new one.
    /// </summary>
    /// <param name="position">
    /// Its place among the connections, from 1: how an unnamed one is named to clients. A server
    /// already registered keeps the place it was added with.
    /// </param>
    public Backend GetOrAdd(ConnectionConfig config, BackendSettings settings, int position)
    {
        ArgumentNullException.ThrowIfNull(config);
        var identity = ServerIdentity.Of(config);
        Backend backend;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byIdentity.TryGetValue(identity, out var known))
            {
                return known;
            }

            backend = new Backend(config, settings, position, _poolLogger);
            _byIdentity.Add(identity, backend);
            Volatile.Write(ref _active, [.. _active, backend]);
        }

        Changed?.Invoke();
        return backend;
    }

    /// <summary>
    /// Retires every active server not in <paramref name="kept"/>: it takes no new requests, and
    /// its pool closes once its requests in flight have finished.
    /// </summary>
    public void RetainOnly(IReadOnlyList<Backend> kept)
    {
        ArgumentNullException.ThrowIfNull(kept);
        List<Backend>? retired = null;
        lock (_lock)
        {
            foreach (var (identity, backend) in _byIdentity)
            {
                if (!kept.Contains(backend))
                {
                    (retired ??= []).Add(backend);
                    _byIdentity.Remove(identity);
                }
            }

            if (retired is null)
            {
                return;
            }

            Volatile.Write(ref _active, [.. _active.Where(b => !retired.Contains(b))]);
            _retired.RemoveAll(static b => b.IsClosed);
            _retired.AddRange(retired);
        }

        foreach (var backend in retired)
        {
            backend.Retire();
        }

        Changed?.Invoke();
    }

    /// <summary>Closes every pool now, draining or not: the process is stopping.</summary>
    public void Dispose()
    {
        Backend[] all;
        lock (_lock)
        {
            _disposed = true;
            all = [.. _active, .. _retired];
        }

        foreach (var backend in all)
        {
            backend.Dispose();
        }
    }

    /// <summary>What makes two connections one server: id, URL (without user and password) and those credentials.</summary>
    private readonly record struct ServerIdentity(string Id, Uri BaseUri, string? Authorization)
    {
        public static ServerIdentity Of(ConnectionConfig config) =>
            new(config.Id, config.BaseUri, config.Credentials?.AuthorizationValue);
    }
}
