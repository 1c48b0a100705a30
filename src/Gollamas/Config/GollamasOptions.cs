using Gollamas.Bodies;
using Microsoft.Extensions.Logging;

namespace Gollamas.Config;

/// <summary>
/// The immutable, already-validated settings everything else consumes. Built only by
/// <see cref="ConfigParser"/>; a value of this type never holds an invalid entry. A default
/// below that an operator can set is read from its row of <see cref="Settings"/>, its one place.
/// </summary>
internal sealed record GollamasOptions
{
    /// <summary>Where the proxy listens.</summary>
    public required ListenAddress Listen { get; init; }

    /// <summary>Minimum level of console log lines.</summary>
    public LogLevel MinimumLevel { get; init; } = Settings.Level.DefaultValue;

    /// <summary>Every upstream Ollama server, in declaration order, each id unique.</summary>
    public required IReadOnlyList<ConnectionConfig> Connections { get; init; }

    /// <summary>Every routed model, in declaration order, each canonical name unique.</summary>
    public required IReadOnlyList<ModelConfig> Models { get; init; }

    /// <summary>
    /// Every alias, in declaration order. Each target is one of <see cref="Models"/>, or, with
    /// <see cref="Discovery"/>, a model a connection may list one day (until then it is unknown).
    /// </summary>
    public required IReadOnlyList<AliasConfig> Aliases { get; init; }

    /// <summary>The connections whose own models are routed to them (--discover), one rule each, in declaration order.</summary>
    public IReadOnlyList<DiscoveryRule> Discovery { get; init; } = [];

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

    /// <summary>Per-connection weights and parallel slots, for the route choice.</summary>
    public RoutingOptions Routing { get; init; } = new();

    /// <summary>
    /// Whether a model that is not configured but is loaded on a connection (seen in its
    /// <c>/api/ps</c>) is routed there and listed in <c>/api/ps</c>.
    /// </summary>
    public bool AllowRunning { get; init; }

    /// <summary>Request size and time limits, upstream timeouts, client connections, drain.</summary>
    public LimitOptions Limits { get; init; } = new();

    /// <summary>API keys clients must present; empty means none needed.</summary>
    public SecurityOptions Security { get; init; } = new();

    /// <summary>Access log and log format.</summary>
    public LogOptions Logging { get; init; } = new();

    /// <summary>Whether and where /metrics is served.</summary>
    public MetricsOptions Metrics { get; init; } = new();

    /// <summary>keep_alive and num_ctx set in model-loading requests; models loaded ahead of them.</summary>
    public LifecycleOptions Lifecycle { get; init; } = new();

    /// <summary>The configuration file read (--config), as given; null: none.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>The settings the file gives that a flag or variable replaced, for the start-up log.</summary>
    public IReadOnlyList<ConfigOverride> Overrides { get; init; } = [];

    /// <summary>
    /// Where the configuration was read otherwise than written, one line each, logged at start-up:
    /// <c>--proxy "llama3.2=10.0.0.5:11434": read as http://10.0.0.5:11434</c>.
    /// </summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>How models are kept loaded, and with which context size.</summary>
internal sealed record LifecycleOptions
{
    /// <summary>For models without settings of their own, and models routed because they run (--allow-running).</summary>
    public RequestDefaults Global { get; init; } = RequestDefaults.None;

    /// <summary>Effective settings of the models that have their own, by configured model name.</summary>
    public IReadOnlyDictionary<string, RequestDefaults> PerModel { get; init; } = new Dictionary<string, RequestDefaults>();

    /// <summary>Configured names of the models loaded at start-up and whenever one of their servers comes back.</summary>
    public IReadOnlyList<string> Preload { get; init; } = [];

    /// <summary>How often the preload request is sent again to keep those models loaded; zero: never.</summary>
    public TimeSpan PingInterval { get; init; }

    /// <summary>The effective settings of a configured model.</summary>
    public RequestDefaults For(string modelName) => PerModel.TryGetValue(modelName, out var defaults) ? defaults : Global;

    /// <summary>
    /// The effective settings of a model found on a server (--discover): those given for any
    /// spelling of its name (<c>llama3.2</c> for <c>llama3.2:latest</c>), else the global ones.
    /// </summary>
    public RequestDefaults For(ModelName model)
    {
        foreach (var (name, defaults) in PerModel)
        {
            if (ModelName.TryParse(name, out var parsed) && string.Equals(parsed.Canonical, model.Canonical, StringComparison.OrdinalIgnoreCase))
            {
                return defaults;
            }
        }

        return Global;
    }
}

/// <summary>The Prometheus endpoint.</summary>
internal sealed record MetricsOptions
{
    /// <summary>Whether GET /metrics is answered at all.</summary>
    public bool Enabled { get; init; } = Settings.Metrics.DefaultValue;

    /// <summary>A separate address that serves /metrics (and only it); null: the main address.</summary>
    public ListenAddress? Listen { get; init; }
}

/// <summary>Limits with defaults for long generations and large image bodies.</summary>
internal sealed record LimitOptions
{
    /// <summary>Largest request body; larger gets 413. Several base64 images fit.</summary>
    public long MaxRequestBodyBytes { get; init; } = Settings.MaxBodySize.DefaultValue;

    /// <summary>How long a client may take to send the request headers.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = Settings.HeaderTimeout.DefaultValue;

    /// <summary>How long connecting to an Ollama server may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = Settings.ConnectTimeout.DefaultValue;

    /// <summary>
    /// Longest silence from a server while the proxy waits for its answer or for the next chunk
    /// of a stream. Covers model loading (minutes); 0 means none.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = Settings.IdleTimeout.DefaultValue;

    /// <summary>
    /// Most client connections at once; 0 means no limit. Each open connection holds about
    /// 13 KiB even when idle (published binary: 2000 idle keep-alive clients took RSS from 19.5
    /// to 44.8 MiB), so without a limit idle clients cost memory without bound; 4096 (the default) bounds that
    /// near 52 MiB and stays far above what the Ollama servers behind can take
    /// (each queues 512 requests by default, OLLAMA_MAX_QUEUE, and runs a few at once).
    /// </summary>
    public int MaxConnections { get; init; } = Settings.MaxConnections.DefaultValue;

    /// <summary>How long in-flight requests may run on after SIGTERM/SIGINT.</summary>
    public TimeSpan DrainTimeout { get; init; } = Settings.DrainTimeout.DefaultValue;

    /// <summary>
    /// Where request bodies larger than <see cref="BodyMemoryThreshold"/> are kept while they are
    /// read and sent on, in unlinked temporary files.
    /// </summary>
    public string BodyTempDirectory { get; init; } = Path.GetTempPath();

    /// <summary>Largest body held in memory; larger ones go to a file.</summary>
    public int BodyMemoryThreshold { get; init; } = BodyStore.DefaultMemoryThreshold;

    /// <summary>Bytes all bodies may hold in memory at once; past it new bodies go to a file.</summary>
    public long BodyMemoryBudget { get; init; } = BodyStore.DefaultMemoryBudget;

    /// <summary>Most bytes a zstd-compressed body may decompress to (never more than the body limit).</summary>
    public int MaxDecompressedBytes { get; init; } = ZstdBody.DefaultMaxOutputBytes;

    /// <summary>
    /// zstd bodies decompressed at once, each with its decoder's window (up to 8 MiB); more wait
    /// in a line as long as the queue timeout allows.
    /// </summary>
    public int MaxDecompressions { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>PEM certificate and key: listen with HTTPS when both are set.</summary>
    public string? TlsCertificatePath { get; init; }

    public string? TlsKeyPath { get; init; }
}

/// <summary>API keys (with none configured, every request is served) and the Host names served.</summary>
internal sealed record SecurityOptions
{
    /// <summary>Keys given on the command line or in GOLLAMAS_API_KEYS.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>A file of keys, one per line ('#' comments), re-read on SIGHUP.</summary>
    public string? ApiKeysFile { get; init; }

    /// <summary>Admin keys given on the command line or in GOLLAMAS_ADMIN_KEYS (NAME=KEY or bare).</summary>
    public IReadOnlyList<string> AdminKeys { get; init; } = [];

    /// <summary>A file of admin keys, as the API keys file, re-read on SIGHUP.</summary>
    public string? AdminKeysFile { get; init; }

    /// <summary>A separate address that serves the admin actions and the status (the actions then only there); null: none.</summary>
    public ListenAddress? AdminListen { get; init; }

    /// <summary>What named keys may use (--key-models, --key-concurrency, --key-rate), one per name.</summary>
    public IReadOnlyList<KeyPolicy> KeyPolicies { get; init; } = [];

    /// <summary>Whether the client's Authorization and x-api-key headers are passed on to Ollama.</summary>
    public bool ForwardAuthorization { get; init; }

    /// <summary>
    /// Host names a loopback listener answers to besides the local ones (lower case, no port);
    /// <c>*</c> turns the Host check off.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];
}

/// <summary>What is logged, and how.</summary>
internal sealed record LogOptions
{
    /// <summary>One line per request at information level.</summary>
    public bool AccessLog { get; init; } = Settings.AccessLog.DefaultValue;

    /// <summary>Whether scrapes and probes that succeed (/metrics, /healthz, /readyz, HEAD /) have access-log lines too.</summary>
    public bool AccessLogProbes { get; init; }

    /// <summary>"simple" (one line of text) or "json" (one JSON object per line, for shippers).</summary>
    public string Format { get; init; } = Settings.LogFormat.DefaultValue;
}

/// <summary>How connections are probed (GET /api/version) and when one counts as down.</summary>
internal sealed record HealthOptions
{
    /// <summary>Time between probes of one connection; also how often /api/ps is read.</summary>
    public TimeSpan Interval { get; init; } = Settings.HealthInterval.DefaultValue;

    /// <summary>How long one probe may take.</summary>
    public TimeSpan Timeout { get; init; } = Settings.HealthTimeout.DefaultValue;

    /// <summary>Failed probes or requests in a row after which a connection is marked down.</summary>
    public int FailuresBeforeDown { get; init; } = Settings.HealthFailures.DefaultValue;
}

/// <summary>What the route choice knows of each connection's server beyond what it observes.</summary>
internal sealed record RoutingOptions
{
    /// <summary>Weight of connections without their own, in thousandths: how fast a server is next to the others (1000).</summary>
    public int DefaultWeightThousandths { get; init; } = 1000;

    /// <summary>Weights by connection id, in thousandths (2.5 is 2500).</summary>
    public IReadOnlyDictionary<string, int> WeightThousandths { get; init; } = new Dictionary<string, int>();

    /// <summary>Requests of one model a server serves at once (its OLLAMA_NUM_PARALLEL), for connections without their own.</summary>
    public int DefaultNumParallel { get; init; } = 1;

    /// <summary>OLLAMA_NUM_PARALLEL by connection id.</summary>
    public IReadOnlyDictionary<string, int> NumParallel { get; init; } = new Dictionary<string, int>();
}

/// <summary>Limits on requests in flight per connection, and the FIFO queue in front of them.</summary>
internal sealed record ConcurrencyOptions
{
    /// <summary>Limit for connections without their own; 0 means unlimited.</summary>
    public int DefaultLimit { get; init; }

    /// <summary>Limits by connection id (a URL given on the command line is resolved to its id).</summary>
    public IReadOnlyDictionary<string, int> PerConnection { get; init; } = new Dictionary<string, int>();

    /// <summary>Requests that may wait for a slot on one connection; more get 503.</summary>
    public int QueueLength { get; init; } = Settings.QueueLength.DefaultValue;

    /// <summary>How long a request may wait for a slot before it gets 503.</summary>
    public TimeSpan QueueTimeout { get; init; } = Settings.QueueTimeout.DefaultValue;
}

/// <summary>Listen address: <c>Host</c> is empty for every interface; "localhost" means both loopbacks.</summary>
internal sealed record ListenAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// One upstream server. <c>Id</c> is the explicit connection id or, for a connection declared
/// implicitly by a <c>--proxy MODEL=URL</c>, a stable one made from the URL: <c>host:port</c>,
/// or the URL when another connection has that id. <c>BaseUri</c> is the server's root (Ollama's
/// API is there) and never holds a user or password: they are in <c>Credentials</c>.
/// </summary>
internal sealed record ConnectionConfig(string Id, Uri BaseUri, bool IsExplicit, UrlCredentials? Credentials = null)
{
    /// <summary>Header fields sent with every request to the connection (--connection-header).</summary>
    public IReadOnlyList<ConnectionHeader> Headers { get; init; } = [];

    /// <summary>The CAs its HTTPS certificate must chain to (--connection-ca); null: the machine's.</summary>
    public ConnectionTrust? Trust { get; init; }
}

/// <summary>
/// One routed model: the name as the operator configured it, and the ids of the connections
/// that serve it, in declaration order (the first is preferred).
/// </summary>
internal sealed record ModelConfig(string Name, IReadOnlyList<string> ConnectionIds);

/// <summary>An alias and the configured model name it stands for.</summary>
internal sealed record AliasConfig(string Alias, string Model);

/// <summary>
/// What the requests of one named key may do: which models they may use (null: any), how many
/// may run at once and how many may start per minute (0: no limit).
/// </summary>
internal sealed record KeyPolicy(string Name)
{
    /// <summary>The models (names or aliases as configured) its requests may use; others are unknown to it. Null: every model.</summary>
    public IReadOnlyList<string>? Models { get; init; }

    /// <summary>Its requests at once; 0: no limit.</summary>
    public int Concurrency { get; init; }

    /// <summary>Its requests per minute; 0: no limit.</summary>
    public int PerMinute { get; init; }
}
