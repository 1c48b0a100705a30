using System.Globalization;

namespace Gollamas.Config;

/// <summary>
/// Connections in declaration order, with the two lookups proxies need: by id, and by URL
/// so several models proxied to one URL share one connection (and one connection pool).
/// </summary>
internal sealed class ConnectionTable
{
    private readonly List<ConnectionConfig> _all = [];
    private readonly HashSet<string> _explicitIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _allIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _failedIds = new(StringComparer.Ordinal);

    // Uri equality ignores scheme and host case and a default port (and a user and password,
    // but base URIs have none); the first connection declared for a URL wins, so explicit
    // ones (parsed first) are preferred over implicit ones.
    private readonly Dictionary<Uri, ConnectionConfig> _byUri = [];

    public IReadOnlyList<ConnectionConfig> All => _all;

    /// <summary>Whether <paramref name="id"/> is the id of an explicit connection: only those can be named.</summary>
    public bool ContainsId(string id) => _explicitIds.Contains(id);

    /// <summary>Whether any explicit connection was declared (or its declaration failed).</summary>
    public bool HasExplicit => _explicitIds.Count + _failedIds.Count > 0;

    /// <summary>Every connection on <paramref name="baseUri"/>: one, or several explicit ones.</summary>
    public List<string> IdsWithUri(Uri baseUri) => [.. _all.Where(c => c.BaseUri == baseUri).Select(c => c.Id)];

    public bool HasFailed(string id) => _failedIds.Contains(id);

    public void MarkFailed(string id) => _failedIds.Add(id);

    public void AddExplicit(string id, Uri baseUri, UrlCredentials? credentials)
    {
        var connection = new ConnectionConfig(id, baseUri, IsExplicit: true, credentials);
        _all.Add(connection);
        _explicitIds.Add(id);
        _allIds.Add(id);
        _byUri.TryAdd(baseUri, connection);
    }

    /// <summary>
    /// The id of the connection on <paramref name="baseUri"/>, added if there is none; null
    /// when that connection has other credentials than <paramref name="credentials"/> (an entry
    /// without credentials takes the connection as it was declared).
    /// </summary>
    public string? GetOrAddImplicit(Uri baseUri, UrlCredentials? credentials)
    {
        if (_byUri.TryGetValue(baseUri, out var existing))
        {
            return credentials is null || credentials == existing.Credentials ? existing.Id : null;
        }

        // host:port stays the same across restarts and reorderings, so a metric series or a
        // log search keeps working; it names no user or password. An explicit id may already
        // be that text: then the URL, which no explicit id can be (they cannot contain "://").
        var id = string.Concat(baseUri.Host, ":", baseUri.Port.ToString(CultureInfo.InvariantCulture));
        if (_allIds.Contains(id))
        {
            id = baseUri.ToString();
        }

        var connection = new ConnectionConfig(id, baseUri, IsExplicit: false, credentials);
        _all.Add(connection);
        _allIds.Add(id);
        _byUri.Add(baseUri, connection);
        return id;
    }
}
