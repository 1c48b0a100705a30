using System.CommandLine;

namespace Gollamas.Cli;

/// <summary>
/// Every option of the root command, with the names, aliases and variables of gollamas. The
/// help text is the user's reference: each description carries an example and, where one
/// exists, the environment variables that stand in for the flag.
/// </summary>
/// <remarks>
/// A fresh set per command rather than static fields: adding an option to a command records the
/// command as its parent, so sharing instances between commands (tests build many, in parallel)
/// would mutate shared state.
/// </remarks>
internal sealed class CliOptions
{
    public const string DefaultListen = "localhost:11434";
    public const string DefaultLevel = "info";
    public const string DefaultHealthInterval = "5s";
    public const string DefaultHealthTimeout = "2s";
    public const string DefaultHealthFailures = "3";
    public const string DefaultQueueLength = "64";
    public const string DefaultQueueTimeout = "60s";
    public const string DefaultMaxBodySize = "256MiB";
    public const string DefaultHeaderTimeout = "30s";
    public const string DefaultConnectTimeout = "5s";
    public const string DefaultIdleTimeout = "10m";
    public const string DefaultMaxConnections = "4096";
    public const string DefaultDrainTimeout = "30s";
    public const string DefaultLogFormat = "simple";

    public Option<string> Listen { get; } = new("--listen", "-a", "--addr", "--address")
    {
        HelpName = "HOST:PORT",
        Description = "Address to listen on: HOST:PORT, :PORT for every interface, or [IPV6]:PORT. "
            + "Example: --listen 0.0.0.0:11434 " + EnvironmentDefaults.HelpSuffix(EnvironmentDefaults.Listen),
        DefaultValueFactory = static _ => DefaultListen,
    };

    public Option<string> Level { get; } = new("--level", "--error-level")
    {
        HelpName = "LEVEL",
        Description = "Minimum log level: panic, fatal, error, warn, info, debug or trace. "
            + "Example: --level debug " + EnvironmentDefaults.HelpSuffix(EnvironmentDefaults.Level),
        DefaultValueFactory = static _ => DefaultLevel,
    };

    public Option<string[]> Proxy { get; } = new("--proxy")
    {
        HelpName = "MODEL=URL|CONNECTION_ID",
        Arity = ArgumentArity.OneOrMore,
        Description = "Routes MODEL to an Ollama server, given by URL or by the ID of a --connection; repeatable. "
            + "Example: --proxy llama3.2=http://gpu1:11434 --proxy qwen3:8b=c1",
    };

    public Option<string> Proxies { get; } = new("--proxies")
    {
        HelpName = "LIST",
        Description = "Comma list of MODEL=URL|CONNECTION_ID pairs, added after the --proxy ones. "
            + "Example: --proxies 'llama3.2=http://gpu1:11434,qwen3:8b=c1' " + EnvironmentDefaults.HelpSuffix(EnvironmentDefaults.Proxies),
    };

    public Option<string[]> Connection { get; } = new("--connection")
    {
        HelpName = "ID=URL",
        Arity = ArgumentArity.OneOrMore,
        Description = "Names an Ollama server so that several --proxy entries can refer to it by ID; repeatable. "
            + "Example: --connection c1=http://gpu1:11434",
    };

    public Option<string> Connections { get; } = new("--connections")
    {
        HelpName = "LIST",
        Description = "Comma list of ID=URL pairs, added after the --connection ones. "
            + "Example: --connections 'c1=http://gpu1:11434,c2=http://gpu2:11434' " + EnvironmentDefaults.HelpSuffix(EnvironmentDefaults.Connections),
    };

    public Option<string[]> Alias { get; } = new("--alias")
    {
        HelpName = "ALIAS=MODEL",
        Arity = ArgumentArity.OneOrMore,
        Description = "Another name clients may use for a routed MODEL; repeatable. "
            + "Example: --alias gpt-4o=llama3.2",
    };

    public Option<string> Aliases { get; } = new("--aliases")
    {
        HelpName = "LIST",
        Description = "Comma list of ALIAS=MODEL pairs, added after the --alias ones. "
            + "Example: --aliases 'gpt-4o=llama3.2,gpt-4o-mini=qwen3:8b' " + EnvironmentDefaults.HelpSuffix(EnvironmentDefaults.Aliases),
    };

    public Option<bool> ListAliases { get; } = new("--list-aliases")
    {
        Description = "Also show aliases as models in /api/tags, /api/ps and /v1/models. "
            + "Example: --list-aliases " + EnvironmentDefaults.HelpSuffix(EnvironmentDefaults.ListAliases),
    };

    public Option<string> Origins { get; } = new("--origins")
    {
        HelpName = "LIST",
        Description = "Comma list of browser origins allowed by CORS besides Ollama's local defaults; one '*' wildcard per entry, '*' alone allows all. "
            + "Example: --origins 'https://chat.example.com,chrome-extension://*' " + EnvironmentDefaults.HelpSuffix(EnvironmentDefaults.Origins, EnvironmentDefaults.OllamaOrigins),
    };

    // Numbers and durations are read as strings so that ConfigParser reports a bad one in the
    // same one-line form, naming the flag or variable, as every other configuration error.
    public Option<string> HealthInterval { get; } = new("--health-interval")
    {
        HelpName = "DURATION",
        Description = "Time between health probes (GET /api/version) of each connection; also how often /api/ps is read. "
            + "Example: --health-interval 10s " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.HealthInterval),
        DefaultValueFactory = static _ => DefaultHealthInterval,
    };

    public Option<string> HealthTimeout { get; } = new("--health-timeout")
    {
        HelpName = "DURATION",
        Description = "How long one health probe may take. "
            + "Example: --health-timeout 500ms " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.HealthTimeout),
        DefaultValueFactory = static _ => DefaultHealthTimeout,
    };

    public Option<string> HealthFailures { get; } = new("--health-failures")
    {
        HelpName = "N",
        Description = "Failed probes or requests in a row after which a connection counts as down. "
            + "Example: --health-failures 5 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.HealthFailures),
        DefaultValueFactory = static _ => DefaultHealthFailures,
    };

    public Option<string[]> MaxConcurrency { get; } = new("--max-concurrency")
    {
        HelpName = "[ID_OR_URL=]N",
        Arity = ArgumentArity.OneOrMore,
        Description = "Requests in flight per connection: N alone for every connection without its own limit "
            + "(0, the default, is unlimited), ID=N or URL=N for one connection; repeatable, or a comma list. "
            + "Example: --max-concurrency 4 --max-concurrency gpu1=2 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.MaxConcurrency),
    };

    public Option<string> QueueLength { get; } = new("--queue-length")
    {
        HelpName = "N",
        Description = "Requests that may wait for a free slot on one connection; 0 means no queue: "
            + "a request that finds every route full gets 503 at once. "
            + "Example: --queue-length 16 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.QueueLength),
        DefaultValueFactory = static _ => DefaultQueueLength,
    };

    public Option<string> QueueTimeout { get; } = new("--queue-timeout")
    {
        HelpName = "DURATION",
        Description = "How long a request may wait for a free slot before it gets 503. "
            + "Example: --queue-timeout 2m " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.QueueTimeout),
        DefaultValueFactory = static _ => DefaultQueueTimeout,
    };

    public Option<bool> AllowRunning { get; } = new("--allow-running")
    {
        Description = "Also route a model that is not configured but is loaded on a connection (seen in its /api/ps), "
            + "and list it in /api/ps. Example: --allow-running " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.AllowRunning),
    };

    public Option<string> MaxBodySize { get; } = new("--max-body-size")
    {
        HelpName = "SIZE",
        Description = "Largest request body a client may send; a larger one gets 413. From 1KiB to 2GiB minus 1 byte. "
            + "Example: --max-body-size 64MiB " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.MaxBodySize),
        DefaultValueFactory = static _ => DefaultMaxBodySize,
    };

    public Option<string> BodyTempDir { get; } = new("--body-temp-dir")
    {
        HelpName = "DIR",
        Description = "Directory where request bodies over 1 MiB are kept while they are read and forwarded, in files "
            + "removed as soon as they are opened; default the system's temporary directory. "
            + "Example: --body-temp-dir /var/tmp/gollamas " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.BodyTempDir),
    };

    public Option<string> HeaderTimeout { get; } = new("--header-timeout")
    {
        HelpName = "DURATION",
        Description = "How long a client may take to send its request headers. "
            + "Example: --header-timeout 10s " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.HeaderTimeout),
        DefaultValueFactory = static _ => DefaultHeaderTimeout,
    };

    public Option<string> ConnectTimeout { get; } = new("--connect-timeout")
    {
        HelpName = "DURATION",
        Description = "How long connecting to an Ollama server may take. "
            + "Example: --connect-timeout 2s " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.ConnectTimeout),
        DefaultValueFactory = static _ => DefaultConnectTimeout,
    };

    public Option<string> IdleTimeout { get; } = new("--idle-timeout")
    {
        HelpName = "DURATION",
        Description = "Longest silence from an Ollama server while a request waits for its answer or for the next "
            + "chunk of a stream, model loading included; 0 means none. "
            + "Example: --idle-timeout 30m " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.IdleTimeout),
        DefaultValueFactory = static _ => DefaultIdleTimeout,
    };

    public Option<string> MaxConnections { get; } = new("--max-connections")
    {
        HelpName = "N",
        Description = "Most client connections at once; one more is closed at once. Each costs about 13 KiB even when idle; 0 means no limit. "
            + "Example: --max-connections 20000 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.MaxConnections),
        DefaultValueFactory = static _ => DefaultMaxConnections,
    };

    public Option<string> DrainTimeout { get; } = new("--drain-timeout")
    {
        HelpName = "DURATION",
        Description = "How long requests in flight may run on after SIGINT or SIGTERM before they are cut. "
            + "Example: --drain-timeout 2m " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.DrainTimeout),
        DefaultValueFactory = static _ => DefaultDrainTimeout,
    };

    public Option<string> TlsCertificate { get; } = new("--tls-cert")
    {
        HelpName = "PATH",
        Description = "PEM certificate (with its chain) to listen with HTTPS instead of HTTP; needs --tls-key. "
            + "Example: --tls-cert /etc/gollamas/cert.pem " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.TlsCertificate),
    };

    public Option<string> TlsKey { get; } = new("--tls-key")
    {
        HelpName = "PATH",
        Description = "PEM private key of the --tls-cert certificate. "
            + "Example: --tls-key /etc/gollamas/key.pem " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.TlsKey),
    };

    public Option<string[]> ApiKey { get; } = new("--api-key")
    {
        HelpName = "KEY",
        Arity = ArgumentArity.OneOrMore,
        Description = "An API key clients must present (Authorization: Bearer KEY, or x-api-key: KEY); without any key every request is served. "
            + "Repeatable, or a comma list; replaces the variable's list. "
            + "Example: --api-key \"$KEY1\" " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.ApiKeys),
    };

    public Option<string> ApiKeysFile { get; } = new("--api-keys-file")
    {
        HelpName = "PATH",
        Description = "File of API keys, one per line ('#' starts a comment), re-read on SIGHUP. "
            + "Example: --api-keys-file /etc/gollamas/keys " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.ApiKeysFile),
    };

    public Option<bool> ForwardAuthorization { get; } = new("--forward-authorization")
    {
        Description = "With API keys required, pass the client's Authorization or x-api-key header (its key) on to Ollama; without this flag it stays at the proxy. Without API keys it is always passed on. "
            + "Example: --forward-authorization " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.ForwardAuthorization),
    };

    public Option<string[]> AllowedHosts { get; } = new("--allowed-hosts")
    {
        HelpName = "HOST",
        Arity = ArgumentArity.OneOrMore,
        Description = "Host names a loopback listener answers to besides localhost, *.localhost, *.local, *.internal, "
            + "this machine's name and local addresses (Ollama's guard against DNS rebinding); '*' answers any. "
            + "Repeatable, or a comma list. "
            + "Example: --allowed-hosts ollama.example.com " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.AllowedHosts),
    };

    public Option<bool> AccessLog { get; } = new("--access-log")
    {
        // Help prints no default for a bool option, so this one, the only one on by default, says it.
        Description = "One log line per request, at info level. "
            + "Example: --access-log false " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.AccessLog) + " [default: true]",
        DefaultValueFactory = static _ => true,
    };

    public Option<string> LogFormat { get; } = new("--log-format")
    {
        HelpName = "FORMAT",
        Description = "Log line format: simple (one line of text) or json (one JSON object per line, for log shippers). "
            + "Example: --log-format json " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.LogFormat),
        DefaultValueFactory = static _ => DefaultLogFormat,
    };

    public Option<bool> Metrics { get; } = new("--metrics")
    {
        Description = "Serve GET /metrics (Prometheus text format). "
            + "Example: --metrics false " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.Metrics) + " [default: true]",
        DefaultValueFactory = static _ => true,
    };

    public Option<string> MetricsListen { get; } = new("--metrics-listen")
    {
        HelpName = "HOST:PORT",
        Description = "Serve /metrics on this address only, apart from the proxy's. "
            + "Example: --metrics-listen 0.0.0.0:9090 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.MetricsListen),
    };

    public Option<string[]> KeepAlive { get; } = new("--keep-alive")
    {
        HelpName = "[MODEL=]DURATION",
        Arity = ArgumentArity.OneOrMore,
        Description = "keep_alive for generate, chat, embed and embeddings requests that have none: how long Ollama keeps "
            + "the model loaded after the request (-1 forever, 0 unload at once, 300 seconds, 5m, 1h30m). DURATION alone for "
            + "every model, MODEL=DURATION (a model or alias) for one; repeatable, or a comma list. "
            + "Example: --keep-alive 30m --keep-alive llama3.2=-1 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.KeepAlive),
    };

    public Option<string[]> ForceKeepAlive { get; } = new("--force-keep-alive")
    {
        HelpName = "[MODEL=]DURATION",
        Arity = ArgumentArity.OneOrMore,
        Description = "Like --keep-alive, but replaces the client's keep_alive too (so clients cannot unload the model). "
            + "Example: --force-keep-alive llama3.2=-1 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.ForceKeepAlive),
    };

    public Option<string[]> NumCtx { get; } = new("--num-ctx")
    {
        HelpName = "[MODEL=]N",
        Arity = ArgumentArity.OneOrMore,
        Description = "options.num_ctx (context size in tokens) for generate, chat, embed and embeddings requests that have "
            + "none. N alone for every model, MODEL=N for one; repeatable, or a comma list. "
            + "Example: --num-ctx 8192 --num-ctx qwen3:8b=32768 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.NumCtx),
    };

    public Option<string[]> ForceNumCtx { get; } = new("--force-num-ctx")
    {
        HelpName = "[MODEL=]N",
        Arity = ArgumentArity.OneOrMore,
        Description = "Like --num-ctx, but replaces the client's num_ctx too, so clients asking for different sizes do not "
            + "make Ollama reload the model. Example: --force-num-ctx 8192 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.ForceNumCtx),
    };

    public Option<string[]> Preload { get; } = new("--preload")
    {
        HelpName = "MODEL",
        Arity = ArgumentArity.OneOrMore,
        Description = "Loads MODEL (a model or alias) on each of its servers at start-up (a server not reached then: when it "
            + "next answers) and whenever one comes back up, with its keep-alive and context size; the proxy serves "
            + "meanwhile. Repeatable, or a comma list. "
            + "Example: --preload llama3.2 " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.Preload),
    };

    public Option<string> PingInterval { get; } = new("--ping-interval")
    {
        HelpName = "DURATION",
        Description = "Sends the --preload requests again at this interval (at least 1s), so the models stay loaded on "
            + "servers whose keep-alive would let them expire; 0 (the default) never. "
            + "Example: --ping-interval 4m " + EnvironmentDefaults.PrefixedHelpSuffix(EnvironmentDefaults.PingInterval),
    };

    /// <summary>All options, in the order help lists them.</summary>
    public IEnumerable<Option> All =>
    [
        Listen, Level, Proxy, Proxies, Connection, Connections, Alias, Aliases, ListAliases, Origins,
        HealthInterval, HealthTimeout, HealthFailures, MaxConcurrency, QueueLength, QueueTimeout, AllowRunning,
        KeepAlive, ForceKeepAlive, NumCtx, ForceNumCtx, Preload, PingInterval,
        MaxBodySize, BodyTempDir, HeaderTimeout, ConnectTimeout, IdleTimeout, MaxConnections, DrainTimeout, TlsCertificate, TlsKey,
        ApiKey, ApiKeysFile, ForwardAuthorization, AllowedHosts, AccessLog, LogFormat, Metrics, MetricsListen,
    ];
}
