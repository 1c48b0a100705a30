using System.Collections.Frozen;
using Gollamas.Config;

namespace Gollamas.Security;

/// <summary>
/// The limits of the named keys that have a policy (--key-concurrency, --key-rate, --key-models),
/// with their state: requests in flight and a bucket of requests per minute, per name. Fixed for
/// the process, as the keys given on the command line are.
/// </summary>
internal sealed class KeyLimits
{
    private readonly FrozenDictionary<string, KeyLimit> _byName;

    public KeyLimits(IReadOnlyList<KeyPolicy> policies, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var byName = new Dictionary<string, KeyLimit>(StringComparer.Ordinal);
        foreach (var policy in policies)
        {
            byName[policy.Name] = new KeyLimit(policy, time);
        }

        _byName = byName.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Whether no key has a policy: nothing to look up.</summary>
    public bool IsEmpty => _byName.Count == 0;

    /// <summary>The limits of the key named <paramref name="name"/>, or null when it has none.</summary>
    public KeyLimit? For(string? name) => name is null || _byName.Count == 0 ? null : _byName.GetValueOrDefault(name);
}

/// <summary>One named key's limits and their state.</summary>
internal sealed class KeyLimit(KeyPolicy policy, TimeProvider time)
{
    private readonly Lock _lock = new();
    private int _active;
    private double _tokens = policy.PerMinute;
    private long _refilled = time.GetTimestamp();

    public KeyPolicy Policy { get; } = policy;

    /// <summary>
    /// Lets one more request of the key start, or says why not: null when it may (then
    /// <see cref="End"/> follows it), else the refusal's message, with how long to wait in
    /// <paramref name="retryAfter"/>.
    /// </summary>
    public string? TryStart(out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        lock (_lock)
        {
            if (Policy.Concurrency > 0 && _active >= Policy.Concurrency)
            {
                retryAfter = TimeSpan.FromSeconds(1);
                return $"gollamas: key '{Policy.Name}' may have {Policy.Concurrency} requests in flight at once; try again when one has ended";
            }

            if (Policy.PerMinute > 0)
            {
                var now = time.GetTimestamp();
                var perSecond = Policy.PerMinute / 60d;
                _tokens = Math.Min(Policy.PerMinute, _tokens + (time.GetElapsedTime(_refilled, now).TotalSeconds * perSecond));
                _refilled = now;
                if (_tokens < 1)
                {
                    retryAfter = TimeSpan.FromSeconds((1 - _tokens) / perSecond);
                    return $"gollamas: key '{Policy.Name}' may send {Policy.PerMinute} requests per minute; try again later";
                }

                _tokens -= 1;
            }

            _active++;
            return null;
        }
    }

    /// <summary>A request <see cref="TryStart"/> let in has ended.</summary>
    public void End()
    {
        lock (_lock)
        {
            _active--;
        }
    }
}
