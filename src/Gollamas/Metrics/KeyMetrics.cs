using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Gollamas.Diagnostics;

namespace Gollamas.Metrics;

/// <summary>
/// Requests and tokens by the name of the key a request was let in with (API or admin key):
/// <c>gollamas_key_requests_total{key}</c> and <c>gollamas_key_tokens_total{key,kind}</c>. The
/// label set is bounded: names come from configured keys only (a key's name, never the key), and
/// a request without a key counts nowhere here. Kept apart from <see cref="ProxyMetrics"/>: one
/// lookup per request that carried a key, nothing per chunk.
/// </summary>
internal sealed class KeyMetrics
{
    private readonly ConcurrentDictionary<string, Counts> _byKey = new(StringComparer.Ordinal);

    /// <summary>Counts the request of <paramref name="record"/>, whose <see cref="RequestRecord.KeyName"/> is set.</summary>
    public void Record(RequestRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.KeyName is not { } name)
        {
            return;
        }

        var counts = _byKey.TryGetValue(name, out var known) ? known : _byKey.GetOrAdd(name, static _ => new Counts());
        Interlocked.Increment(ref counts.Requests);
        if (record.PromptTokens > 0)
        {
            Interlocked.Add(ref counts.PromptTokens, record.PromptTokens);
        }

        if (record.GeneratedTokens > 0)
        {
            Interlocked.Add(ref counts.GeneratedTokens, record.GeneratedTokens);
        }
    }

    /// <summary>
    /// Appends both counters in Prometheus' text format, a line for every key name in force
    /// (<paramref name="names"/>, zero until used) and every name counted since the start.
    /// </summary>
    public void WriteTo(StringBuilder text, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(names);
        foreach (var name in names)
        {
            _byKey.GetOrAdd(name, static _ => new Counts());
        }

        var rows = _byKey.ToArray();
        Array.Sort(rows, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        text.Append("# HELP gollamas_key_requests_total Requests let in with a key, by the key's name (NAME=KEY, or key1, key2... by position).\n");
        text.Append("# TYPE gollamas_key_requests_total counter\n");
        foreach (var (name, counts) in rows)
        {
            text.Append("gollamas_key_requests_total{key=\"").Append(name).Append("\"} ")
                .Append(Volatile.Read(ref counts.Requests).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        text.Append("# HELP gollamas_key_tokens_total Tokens of the answers to requests let in with a key, by the key's name and kind: prompt or generated.\n");
        text.Append("# TYPE gollamas_key_tokens_total counter\n");
        foreach (var (name, counts) in rows)
        {
            text.Append("gollamas_key_tokens_total{key=\"").Append(name).Append("\",kind=\"prompt\"} ")
                .Append(Volatile.Read(ref counts.PromptTokens).ToString(CultureInfo.InvariantCulture)).Append('\n');
            text.Append("gollamas_key_tokens_total{key=\"").Append(name).Append("\",kind=\"generated\"} ")
                .Append(Volatile.Read(ref counts.GeneratedTokens).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private sealed class Counts
    {
        public long Requests;
        public long PromptTokens;
        public long GeneratedTokens;
    }
}
