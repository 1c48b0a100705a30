using System.Collections.Frozen;
using Gollamas.Config;

namespace Gollamas.Backends;

/// <summary>Creates and owns every <see cref="Backend"/>; disposed at shutdown.</summary>
internal sealed class BackendSet : IDisposable
{
    private readonly FrozenDictionary<string, Backend> _byId;

    public BackendSet(IReadOnlyList<ConnectionConfig> connections, BackendSettings settings)
    {
        ArgumentNullException.ThrowIfNull(connections);
        var all = new Backend[connections.Count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = new Backend(connections[i], settings);
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
