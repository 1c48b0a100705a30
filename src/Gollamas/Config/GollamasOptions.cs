using Microsoft.Extensions.Logging;

namespace Gollamas.Config;

/// <summary>
/// The immutable, already-validated settings everything else consumes. Built only by
/// <see cref="ConfigParser"/>; a value of this type never holds an invalid entry.
/// </summary>
internal sealed record GollamasOptions
{
    /// <summary>Where the proxy listens.</summary>
    public required ListenAddress Listen { get; init; }

    /// <summary>Minimum level of console log lines.</summary>
    public LogLevel MinimumLevel { get; init; } = LogLevel.Information;

    /// <summary>Every upstream Ollama server, in declaration order, each id unique.</summary>
    public required IReadOnlyList<ConnectionConfig> Connections { get; init; }

    /// <summary>Every routed model, in declaration order, each canonical name unique.</summary>
    public required IReadOnlyList<ModelConfig> Models { get; init; }

    /// <summary>Every alias, in declaration order; each target is one of <see cref="Models"/>.</summary>
    public required IReadOnlyList<AliasConfig> Aliases { get; init; }

    /// <summary>Whether aliases appear as entries of the merged model lists.</summary>
    public bool ListAliases { get; init; }

    /// <summary>
    /// CORS origins allowed besides Ollama's default local ones, as OLLAMA_ORIGINS gives them
    /// (exact, or with one <c>*</c> wildcard; <c>*</c> alone allows every origin).
    /// </summary>
    public IReadOnlyList<string> Origins { get; init; } = [];

    /// <summary>Background probing of every connection and when a server counts as down.</summary>
    public HealthOptions Health { get; init; } = new();

    /// <summary>Per-connection limits on requests in flight, and the queue in front of them.</summary>
    public ConcurrencyOptions Concurrency { get; init; } = new();

    /// <summary>
    /// Whether a model that is not configured but is loaded on a connection (seen in its
    /// <c>/api/ps</c>) is routed there and listed in <c>/api/ps</c>.
    /// </summary>
    public bool AllowRunning { get; init; }
}

/// <summary>How connections are probed (GET /api/version) and when one counts as down.</summary>
internal sealed record HealthOptions
{
    /// <summary>Time between probes of one connection; also how often /api/ps is read.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one probe may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Failed probes or requests in a row after which a connection is marked down.</summary>
    public int FailuresBeforeDown { get; init; } = 3;
}

/// <summary>Limits on requests in flight per connection, and the FIFO queue in front of them.</summary>
internal sealed record ConcurrencyOptions
{
    /// <summary>Limit for connections without their own; 0 means unlimited.</summary>
    public int DefaultLimit { get; init; }

    /// <summary>Limits by connection id (a URL given on the command line is resolved to its id).</summary>
    public IReadOnlyDictionary<string, int> PerConnection { get; init; } = new Dictionary<string, int>();

    /// <summary>Requests that may wait for a slot on one connection; more get 503.</summary>
    public int QueueLength { get; init; } = 64;

    /// <summary>How long a request may wait for a slot before it gets 503.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>Listen address: <c>Host</c> is empty for every interface; "localhost" means both loopbacks.</summary>
internal sealed record ListenAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// One upstream server. <c>Id</c> is the explicit connection id, or the URL text when the
/// connection was declared implicitly by a <c>--proxy MODEL=URL</c>.
/// </summary>
internal sealed record ConnectionConfig(string Id, Uri BaseUri, bool IsExplicit);

/// <summary>
/// One routed model: the name as the operator configured it, and the ids of the connections
/// that serve it, in declaration order (the first is preferred).
/// </summary>
internal sealed record ModelConfig(string Name, IReadOnlyList<string> ConnectionIds);

/// <summary>An alias and the configured model name it stands for.</summary>
internal sealed record AliasConfig(string Alias, string Model);
