using System.Collections.Frozen;
using Gollamas.Config;
using Microsoft.Extensions.Logging;

namespace Gollamas.Backends;

/// <summary>Creates and owns every <see cref="Backend"/>; disposed at shutdown.</summary>
internal sealed class BackendSet : IDisposable
{
    private readonly FrozenDictionary<string, Backend> _byId;

    /// <param name="connections">Every connection, in declaration order.</param>
    /// <param name="settings">Settings shared by every connection.</param>
    /// <param name="limits">Concurrency limits by connection id, over the default in <paramref name="settings"/>.</param>
    /// <param name="loggerFactory">For the connection pools' Debug messages; none when null.</param>
    public BackendSet(IReadOnlyList<ConnectionConfig> connections, BackendSettings settings, IReadOnlyDictionary<string, int>? limits = null, ILoggerFactory? loggerFactory = null)
    {
        var poolLogger = loggerFactory?.CreateLogger<UpstreamPool>();
        ArgumentNullException.ThrowIfNull(connections);
        ArgumentNullException.ThrowIfNull(settings);
        var all = new Backend[connections.Count];
        for (var i = 0; i < all.Length; i++)
        {
            var own = limits is not null && limits.TryGetValue(connections[i].Id, out var limit)
                ? settings with { ConcurrencyLimit = limit }
                : settings;
            all[i] = new Backend(connections[i], own, position: i + 1, poolLogger);
        }

        All = all;
        _byId = all.ToFrozenDictionary(static b => b.Id, StringComparer.Ordinal);
    }

    /// <summary>Every backend in declaration order.</summary>
    public IReadOnlyList<Backend> All { get; }

    public Backend this[string id] => _byId[id];

    public void Dispose()
    {
        foreach (var backend in All)
        {
            backend.Dispose();
        }
    }
}
