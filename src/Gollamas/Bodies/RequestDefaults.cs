using System.Globalization;

namespace Gollamas.Bodies;

/// <summary>
/// What the proxy does to the body of a model-loading request (generate, chat, embed,
/// embeddings) for one model: an ordered set of <see cref="RequestRule"/>s, at most one per
/// field, each setting a top-level member or an <c>options</c> entry when the request has none,
/// always (forced), or removing it. <c>--keep-alive</c> and <c>--num-ctx</c> are two such rules
/// (<c>keep_alive</c>, <c>options.num_ctx</c>). Immutable and shared by every request for the
/// model; the JSON fragments spliced into bodies are encoded once, so a rewrite allocates nothing.
/// </summary>
internal sealed class RequestDefaults
{
    /// <summary>Nothing set: bodies are forwarded as the client sent them.</summary>
    public static readonly RequestDefaults None = new([]);

    private readonly RequestRule[] _rules;

    // The keep_alive and options.num_ctx rules that set a value (a strip rule sets none).
    private readonly RequestRule? _keepAlive;
    private readonly RequestRule? _numCtx;

    /// <param name="keepAliveJson">The <c>keep_alive</c> value as a JSON token (<c>-1</c>, <c>300</c>, <c>0.25</c>); null for none.</param>
    /// <param name="keepAliveText">The same value as the operator wrote it, for logs.</param>
    /// <param name="forceKeepAlive">Replace the client's value too, not only set it when absent.</param>
    /// <param name="numCtx">The <c>options.num_ctx</c> value; null for none.</param>
    /// <param name="forceNumCtx">Replace the client's value too, not only set it when absent.</param>
    public RequestDefaults(string? keepAliveJson, string? keepAliveText, bool forceKeepAlive, int? numCtx, bool forceNumCtx)
        : this(LegacyRules(keepAliveJson, keepAliveText, forceKeepAlive, numCtx, forceNumCtx))
    {
    }

    /// <param name="rules">The rules in the order their members are added, at most one per field.</param>
    public RequestDefaults(IReadOnlyList<RequestRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = [.. rules];
        for (var i = 0; i < _rules.Length; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (_rules[j].Field == _rules[i].Field)
                {
                    throw new ArgumentException($"Two rules for {_rules[i].Field}.", nameof(rules));
                }
            }
        }

        _keepAlive = Find("keep_alive") is { Action: not RuleAction.Strip } keepAlive ? keepAlive : null;
        _numCtx = Find("options.num_ctx") is { Action: not RuleAction.Strip } numCtxRule ? numCtxRule : null;
        if (_numCtx?.Json is { } numCtx && int.TryParse(numCtx, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            NumCtx = n;
        }

        Watched = WatchedFields.Of([this]);
    }

    /// <summary>The rules, in the order their members are added.</summary>
    public IReadOnlyList<RequestRule> Rules => _rules;

    /// <summary><see cref="Rules"/> for the hot path: a loop over it allocates no enumerator.</summary>
    public ReadOnlySpan<RequestRule> RuleSpan => _rules;

    /// <summary>Whether nothing is set, so bodies need no scan.</summary>
    public bool IsEmpty => _rules.Length == 0;

    /// <summary>The fields these rules name, for a scan of a body they alone apply to.</summary>
    public WatchedFields Watched { get; }

    /// <summary>The keep-alive as configured (e.g. <c>10m</c>, <c>-1</c>), for logs; null when none is set.</summary>
    public string? KeepAliveText => _keepAlive?.Text;

    public bool ForceKeepAlive => _keepAlive?.Action == RuleAction.Force;

    /// <summary>The <c>options.num_ctx</c> set, when it is a whole number; null otherwise.</summary>
    public int? NumCtx { get; }

    public bool ForceNumCtx => _numCtx?.Action == RuleAction.Force;

    /// <summary>The <c>keep_alive</c> JSON value alone (<c>-1</c>); empty when none is set.</summary>
    public ReadOnlyMemory<byte> KeepAliveValue => _keepAlive?.Value ?? default;

    /// <summary><c>,"keep_alive":V</c>: a member to append to a non-empty object (drop the comma for an empty one).</summary>
    public ReadOnlyMemory<byte> KeepAliveMember => _keepAlive?.Member ?? default;

    /// <summary>The <c>num_ctx</c> JSON value alone (<c>8192</c>); empty when none is set.</summary>
    public ReadOnlyMemory<byte> NumCtxValue => _numCtx?.Value ?? default;

    /// <summary><c>,"num_ctx":N</c>: a member to append to an existing <c>options</c> object.</summary>
    public ReadOnlyMemory<byte> NumCtxMember => _numCtx?.Member ?? default;

    /// <summary><c>,"options":{"num_ctx":N}</c>: a member to append to the top-level object when it has no usable <c>options</c>.</summary>
    public ReadOnlyMemory<byte> OptionsMember => _numCtx?.OptionsMember ?? default;

    /// <summary>The rule for <paramref name="field"/> (<c>keep_alive</c>, <c>options.num_ctx</c>), or null.</summary>
    public RequestRule? Find(string field)
    {
        foreach (var rule in _rules)
        {
            if (rule.Field == field)
            {
                return rule;
            }
        }

        return null;
    }

    private static RequestRule[] LegacyRules(string? keepAliveJson, string? keepAliveText, bool forceKeepAlive, int? numCtx, bool forceNumCtx)
    {
        var rules = new List<RequestRule>(2);
        if (keepAliveJson is not null)
        {
            rules.Add(new RequestRule(forceKeepAlive ? RuleAction.Force : RuleAction.Default, "keep_alive", keepAliveJson, keepAliveText));
        }

        if (numCtx is { } n)
        {
            rules.Add(new RequestRule(forceNumCtx ? RuleAction.Force : RuleAction.Default, "options.num_ctx", n.ToString(CultureInfo.InvariantCulture)));
        }

        return [.. rules];
    }
}
