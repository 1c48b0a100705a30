using Gollamas.Config;
using Microsoft.Extensions.Logging;

namespace Gollamas.Connections;

/// <summary>
/// Every Ollama server the proxy talks to, one <see cref="Connection"/> each (pool, health, gate,
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
internal sealed class ConnectionRegistry : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ConnectionIdentity, Connection> _byIdentity = [];
    private readonly List<Connection> _retired = [];
    private readonly ILogger? _poolLogger;
    private Connection[] _active = [];
    private bool _disposed;

    /// <param name="loggerFactory">For the connection pools' Debug messages; none when null.</param>
    public ConnectionRegistry(ILoggerFactory? loggerFactory = null)
    {
        _poolLogger = loggerFactory?.CreateLogger<UpstreamPool>();
    }

    /// <summary>Raised after a server was added or retired (outside the registry's lock).</summary>
    public event Action? Changed;

    /// <summary>Every server not retired, in the order they were added.</summary>
    public IReadOnlyList<Connection> Active => Volatile.Read(ref _active);

    /// <summary>
    /// The server of <paramref name="config"/>'s identity: the one already registered (its state
    /// kept; a snapshot's swap pushes <paramref name="settings"/> to it), else a new one.
    /// </summary>
    /// <param name="position">
    /// Its place among the connections, from 1: how an unnamed one is named to clients. A server
    /// already registered keeps the place it was added with.
    /// </param>
    public Connection GetOrAdd(ConnectionConfig config, ConnectionSettings settings, int position)
    {
        ArgumentNullException.ThrowIfNull(config);
        var identity = ConnectionIdentity.Of(config);
        Connection connection;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byIdentity.TryGetValue(identity, out var known))
            {
                return known;
            }

            connection = new Connection(config, settings, position, _poolLogger);
            _byIdentity.Add(identity, connection);
            Volatile.Write(ref _active, [.. _active, connection]);
        }

        Changed?.Invoke();
        return connection;
    }

    /// <summary>
    /// Retires every active server not in <paramref name="kept"/>: it takes no new requests, and
    /// its pool closes once its requests in flight have finished.
    /// </summary>
    public void RetainOnly(IReadOnlyList<Connection> kept)
    {
        ArgumentNullException.ThrowIfNull(kept);
        List<Connection>? retired = null;
        lock (_lock)
        {
            foreach (var (identity, connection) in _byIdentity)
            {
                if (!kept.Contains(connection))
                {
                    (retired ??= []).Add(connection);
                    _byIdentity.Remove(identity);
                }
            }

            if (retired is null)
            {
                return;
            }

            Volatile.Write(ref _active, [.. _active.Where(c => !retired.Contains(c))]);
            _retired.RemoveAll(static c => c.IsClosed);
            _retired.AddRange(retired);
        }

        foreach (var connection in retired)
        {
            connection.Retire();
        }

        Changed?.Invoke();
    }

    /// <summary>Closes every pool now, draining or not: the process is stopping.</summary>
    public void Dispose()
    {
        Connection[] all;
        lock (_lock)
        {
            _disposed = true;
            all = [.. _active, .. _retired];
        }

        foreach (var connection in all)
        {
            connection.Dispose();
        }
    }

    /// <summary>What makes two connections one server: id, URL (without user and password) and those credentials.</summary>
    // Everything a Connection fixes at its creation: a change of any of them is another connection.
    private readonly record struct ConnectionIdentity(string Id, Uri BaseUri, string? Authorization, string Headers, string? Trust)
    {
        public static ConnectionIdentity Of(ConnectionConfig config) =>
            new(
                config.Id,
                config.BaseUri,
                config.Credentials?.AuthorizationValue,
                string.Join("\n", config.Headers.Select(static h => h.Name + ": " + h.Value)),
                config.Trust?.Fingerprint);
    }
}
