using Microsoft.Extensions.Logging;

namespace Gollamas.Config;

/// <summary>
/// The table of settings: every flag of gollamas, its variables, help and default, and where
/// its value goes in <see cref="GollamasOptions"/>, in the order --help lists them. The command
/// line (<c>Cli/CliOptions</c>), the environment (<c>Cli/EnvironmentDefaults</c>) and
/// <see cref="ConfigParser"/> are derived from it: a new setting is one row here plus the code
/// that uses its value.
/// </summary>
/// <remarks>
/// Help texts end with an example; the "[env: ...]" and "[default: ...]" ends are added from
/// the row. Numbers and durations are read as strings and parsed here, so a bad one is reported
/// in the same one-line form, naming the flag or variable, as every other configuration error.
/// </remarks>
internal static class Settings
{
    // The body is buffered whole in one pooled array before it is forwarded, and both an array's
    // length and Kestrel's request body limit stop at int.MaxValue; under 1 KiB not even a short
    // chat request fits.
    private const long MinimumBodySize = 1024;
    private const long MaximumBodySize = int.MaxValue;
    private const string BodySizeRange = "out of range (expected 1KiB to 2147483647 bytes)";

    public static readonly ValueSetting<string?> Config = new()
    {
        Flag = "--config",
        Variable = "GOLLAMAS_CONFIG",
        Kind = SettingKind.Scalar,
        HelpName = "PATH",
        Help = "YAML file of settings: any setting below under its variable's name in lower case (health_interval: 10s), "
            + "and the connections, models and aliases; a flag or variable given wins over the file for its setting. "
            + "Example: --config /etc/gollamas/gollamas.yaml",
        NotInFile = true,

        // ConfigSources has read the file by now, and reported it if it could not.
        Parse = static (entry, errors) => entry?.Value.Trim(),
        Apply = static (options, value) => options with { ConfigFile = value },
    };

    public static readonly ValueSetting<ListenAddress?> Listen = new()
    {
        Flag = "--listen",
        Aliases = ["-a", "--addr", "--address"],
        Variable = "GOLLAMAS_LISTEN",
        LegacyVariable = "LISTEN",
        Kind = SettingKind.Scalar,
        HelpName = "HOST:PORT",
        Help = "Address to listen on: HOST:PORT, :PORT for every interface, or [IPV6]:PORT. Example: --listen 0.0.0.0:11434",
        Default = "localhost:11434",
        Parse = static (entry, errors) => SettingParsers.Listen(entry, errors),
        Apply = static (options, value) => options with { Listen = value! },
    };

    public static readonly ValueSetting<LogLevel> Level = new()
    {
        Flag = "--level",
        Aliases = ["--error-level"],
        Variable = "GOLLAMAS_LEVEL",
        LegacyVariable = "LEVEL",
        Kind = SettingKind.Scalar,
        HelpName = "LEVEL",
        Help = "Minimum log level: panic, fatal, error, warn, info, debug or trace. Example: --level debug",
        Default = "info",
        Parse = static (entry, errors) => SettingParsers.Level(entry, errors),
        Apply = static (options, value) => options with { MinimumLevel = value },
    };

    public static readonly Setting Proxies = new()
    {
        Flag = "--proxy",
        ListFlag = "--proxies",
        Variable = "GOLLAMAS_PROXIES",
        LegacyVariable = "PROXIES",
        Kind = SettingKind.Pairs,
        Live = true,

        // A file gives the routes model by model: models: {llama3.2: [gpu1]}.
        FileKey = "models",
        HelpName = "MODEL=URL|CONNECTION_ID",
        Help = "Routes MODEL to an Ollama server, given by URL or by the ID of a --connection; repeatable. "
            + "Example: --proxy llama3.2=http://gpu1:11434 --proxy qwen3:8b=c1",
        ListHelp = "Comma list of MODEL=URL|CONNECTION_ID pairs, added after the --proxy ones. "
            + "Example: --proxies 'llama3.2=http://gpu1:11434,qwen3:8b=c1'",

        // Reads --connection and --alias too: proxies name connections, aliases name models.
        Combine = static draft => RouteParser.Parse(draft),
    };

    public static readonly Setting Connections = new()
    {
        Flag = "--connection",
        ListFlag = "--connections",
        Variable = "GOLLAMAS_CONNECTIONS",
        LegacyVariable = "CONNECTIONS",
        Kind = SettingKind.Pairs,
        Live = true,
        HelpName = "ID=URL",
        Help = "Names an Ollama server so that several --proxy entries can refer to it by ID; repeatable. "
            + "Example: --connection c1=http://gpu1:11434",
        ListHelp = "Comma list of ID=URL pairs, added after the --connection ones. "
            + "Example: --connections 'c1=http://gpu1:11434,c2=http://gpu2:11434'",
    };

    public static readonly Setting Aliases = new()
    {
        Flag = "--alias",
        ListFlag = "--aliases",
        Variable = "GOLLAMAS_ALIASES",
        LegacyVariable = "ALIASES",
        Kind = SettingKind.Pairs,
        Live = true,
        HelpName = "ALIAS=MODEL",
        Help = "Another name clients may use for a routed MODEL; repeatable. Example: --alias gpt-4o=llama3.2",
        ListHelp = "Comma list of ALIAS=MODEL pairs, added after the --alias ones. "
            + "Example: --aliases 'gpt-4o=llama3.2,gpt-4o-mini=qwen3:8b'",
    };

    public static readonly Setting Discover = new()
    {
        Flag = "--discover",
        Variable = "GOLLAMAS_DISCOVER",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "ID_OR_URL[=PATTERN]",
        Help = "Also route the models a connection has: its /api/tags is read at start-up and every health interval, and each "
            + "model found is routed there, beside the --proxy routes (which win for their models). PATTERN limits them "
            + "(* any text, ? one character; !PATTERN leaves models out); repeatable, or a comma list. "
            + "Example: --discover gpu1 --discover 'http://gpu2:11434=qwen3:*' --discover 'gpu2=!*:70b'",

        // Read with the routes (RouteParser): a URL here declares its connection, as in --proxy.
    };

    public static readonly ValueSetting<bool> ListAliases = new()
    {
        Flag = "--list-aliases",
        Variable = "GOLLAMAS_LIST_ALIASES",
        LegacyVariable = "LIST_ALIASES",
        Kind = SettingKind.Switch,
        Live = true,
        Help = "Also show aliases as models in /api/tags, /api/ps and /v1/models. Example: --list-aliases",
        Parse = static (entry, errors) => ValueParsers.Boolean(entry, errors),
        Apply = static (options, value) => options with { ListAliases = value },
    };

    public static readonly ListSetting<string[]> Origins = new()
    {
        Flag = "--origins",
        Variable = "GOLLAMAS_ORIGINS",
        LegacyVariable = "OLLAMA_ORIGINS",
        Kind = SettingKind.List,
        Live = true,
        HelpName = "LIST",
        Help = "Comma list of browser origins allowed by CORS besides Ollama's local defaults; one '*' wildcard per entry, '*' alone allows all. "
            + "Example: --origins 'https://chat.example.com,chrome-extension://*'",
        Parse = static (entries, errors) => SettingParsers.Origins(entries, errors),
        Apply = static (options, value) => options with { Origins = value },
    };

    public static readonly ValueSetting<TimeSpan> HealthInterval = new()
    {
        Flag = "--health-interval",
        Variable = "GOLLAMAS_HEALTH_INTERVAL",
        Kind = SettingKind.Scalar,
        HelpName = "DURATION",
        Help = "Time between health probes (GET /api/version) of each connection; also how often /api/ps is read. "
            + "Example: --health-interval 10s",
        Default = "5s",
        Parse = static (entry, errors) => ValueParsers.Duration(entry, errors),
        Apply = static (options, value) => options with { Health = options.Health with { Interval = value } },
    };

    public static readonly ValueSetting<TimeSpan> HealthTimeout = new()
    {
        Flag = "--health-timeout",
        Variable = "GOLLAMAS_HEALTH_TIMEOUT",
        Kind = SettingKind.Scalar,
        HelpName = "DURATION",
        Help = "How long one health probe may take. Example: --health-timeout 500ms",
        Default = "2s",
        Parse = static (entry, errors) => ValueParsers.Duration(entry, errors),
        Apply = static (options, value) => options with { Health = options.Health with { Timeout = value } },
    };

    public static readonly ValueSetting<int> HealthFailures = new()
    {
        Flag = "--health-failures",
        Variable = "GOLLAMAS_HEALTH_FAILURES",
        Kind = SettingKind.Scalar,
        Live = true,
        HelpName = "N",
        Help = "Failed probes or requests in a row after which a connection counts as down. Example: --health-failures 5",
        Default = "3",
        Parse = static (entry, errors) => ValueParsers.WholeNumber(
            entry, minimum: 1, "invalid failure count (expected a whole number of at least 1)", errors),
        Apply = static (options, value) => options with { Health = options.Health with { FailuresBeforeDown = value } },
    };

    public static readonly Setting MaxConcurrency = new()
    {
        Flag = "--max-concurrency",
        Variable = "GOLLAMAS_MAX_CONCURRENCY",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "[ID_OR_URL=]N",
        Help = "Requests in flight per connection: N alone for every connection without its own limit "
            + "(0, the default, is unlimited), ID=N or URL=N for one connection; repeatable, or a comma list. "
            + "Example: --max-concurrency 4 --max-concurrency gpu1=2",

        // A limit names a connection, which the routes' step has declared by now.
        Combine = static draft => RouteParser.ParseConcurrencyLimits(draft),
    };

    public static readonly Setting Weight = new()
    {
        Flag = "--weight",
        Variable = "GOLLAMAS_WEIGHT",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "[ID_OR_URL=]N",
        Help = "How fast a server is next to the others, for the route choice (a number from 0.1 to 100; 1, the default, for all alike): "
            + "its expected waits and prompt times count N times shorter. N alone for every connection without its own; repeatable, "
            + "or a comma list. Example: --weight gpu1=2 --weight cpu1=0.25",
        Combine = static draft => PerConnectionNumbers.ReadWeights(draft),
    };

    public static readonly Setting NumParallel = new()
    {
        Flag = "--num-parallel",
        Variable = "GOLLAMAS_NUM_PARALLEL",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "[ID_OR_URL=]N",
        Help = "The OLLAMA_NUM_PARALLEL of the servers (1, Ollama's default): requests of one model a server serves at once; "
            + "the route choice counts the others as waiting there. N alone for every connection without its own; repeatable, or a "
            + "comma list. Example: --num-parallel 4 --num-parallel cpu1=1",
        Combine = static draft => PerConnectionNumbers.ReadNumParallel(draft),
    };

    public static readonly Setting ConnectionHeaders = new()
    {
        Flag = "--connection-header",
        Variable = "GOLLAMAS_CONNECTION_HEADERS",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "ID_OR_URL=NAME=env:VARIABLE|file:PATH",
        Help = "A header field sent with every request to one connection (an Authorization for a protected Ollama or ollama.com), "
            + "its value read from an environment variable or a file, never written here nor logged; repeatable, or a comma list. "
            + "Example: --connection-header 'cloud=Authorization=env:OLLAMA_AUTHORIZATION'",
    };

    public static readonly Setting ConnectionCas = new()
    {
        Flag = "--connection-ca",
        Variable = "GOLLAMAS_CONNECTION_CAS",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "ID_OR_URL=PATH",
        Help = "PEM bundle of the certificate authorities an HTTPS connection's certificate must chain to, instead of the system's "
            + "(a private CA); repeatable, or a comma list. Example: --connection-ca gpu1=/etc/gollamas/lab-ca.pem",

        // Both rows name connections, which the routes' step has declared by now.
        Combine = static draft => ConnectionExtrasParser.Parse(draft),
    };

    public static readonly ValueSetting<int> QueueLength = new()
    {
        Flag = "--queue-length",
        Variable = "GOLLAMAS_QUEUE_LENGTH",
        Kind = SettingKind.Scalar,
        Live = true,
        HelpName = "N",
        Help = "Requests that may wait for a free slot on one connection; 0 means no queue: "
            + "a request that finds every route full gets 503 at once. Example: --queue-length 16",
        Default = "64",
        Parse = static (entry, errors) => ValueParsers.WholeNumber(
            entry, minimum: 0, "invalid queue length (expected a whole number, 0 for no queue)", errors),
        Apply = static (options, value) => options with { Concurrency = options.Concurrency with { QueueLength = value } },
    };

    public static readonly ValueSetting<TimeSpan> QueueTimeout = new()
    {
        Flag = "--queue-timeout",
        Variable = "GOLLAMAS_QUEUE_TIMEOUT",
        Kind = SettingKind.Scalar,
        Live = true,
        HelpName = "DURATION",
        Help = "How long a request may wait for a free slot before it gets 503. Example: --queue-timeout 2m",
        Default = "60s",
        Parse = static (entry, errors) => ValueParsers.Duration(entry, errors),
        Apply = static (options, value) => options with { Concurrency = options.Concurrency with { QueueTimeout = value } },
    };

    public static readonly ValueSetting<bool> AllowRunning = new()
    {
        Flag = "--allow-running",
        Variable = "GOLLAMAS_ALLOW_RUNNING",
        Kind = SettingKind.Switch,
        Live = true,
        Help = "Also route a model that is not configured but is loaded on a connection (seen in its /api/ps), "
            + "and list it in /api/ps. Example: --allow-running",
        Parse = static (entry, errors) => ValueParsers.Boolean(entry, errors),
        Apply = static (options, value) => options with { AllowRunning = value },
    };

    // The lifecycle settings are read together, after every row (ConfigParser): each may name a
    // model or alias, and a preload depends on the model's keep-alive.
    public static readonly Setting KeepAlive = new()
    {
        Flag = "--keep-alive",
        Variable = "GOLLAMAS_KEEP_ALIVE",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "[MODEL=]DURATION",
        Help = "keep_alive for generate, chat, embed and embeddings requests that have none: how long Ollama keeps "
            + "the model loaded after the request (-1 forever, 0 unload at once, 300 seconds, 5m, 1h30m). DURATION alone for "
            + "every model, MODEL=DURATION (a model or alias) for one; repeatable, or a comma list. "
            + "Example: --keep-alive 30m --keep-alive llama3.2=-1",
    };

    public static readonly Setting ForceKeepAlive = new()
    {
        Flag = "--force-keep-alive",
        Variable = "GOLLAMAS_FORCE_KEEP_ALIVE",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "[MODEL=]DURATION",
        Help = "Like --keep-alive, but replaces the client's keep_alive too (so clients cannot unload the model). "
            + "Example: --force-keep-alive llama3.2=-1",
    };

    public static readonly Setting NumCtx = new()
    {
        Flag = "--num-ctx",
        Variable = "GOLLAMAS_NUM_CTX",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "[MODEL=]N",
        Help = "options.num_ctx (context size in tokens) for generate, chat, embed and embeddings requests that have "
            + "none. N alone for every model, MODEL=N for one; repeatable, or a comma list. "
            + "Example: --num-ctx 8192 --num-ctx qwen3:8b=32768",
    };

    public static readonly Setting ForceNumCtx = new()
    {
        Flag = "--force-num-ctx",
        Variable = "GOLLAMAS_FORCE_NUM_CTX",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "[MODEL=]N",
        Help = "Like --num-ctx, but replaces the client's num_ctx too, so clients asking for different sizes do not "
            + "make Ollama reload the model. Example: --force-num-ctx 8192",
    };

    public static readonly Setting Preload = new()
    {
        Flag = "--preload",
        Variable = "GOLLAMAS_PRELOAD",
        Kind = SettingKind.Repeatable,
        Live = true,
        HelpName = "MODEL",
        Help = "Loads MODEL (a model or alias) on each of its servers at start-up (a server not reached then: when it "
            + "next answers) and whenever one comes back up, with its keep-alive and context size; the proxy serves "
            + "meanwhile. Repeatable, or a comma list. "
            + "Example: --preload llama3.2",
    };

    public static readonly Setting PingInterval = new()
    {
        Flag = "--ping-interval",
        Variable = "GOLLAMAS_PING_INTERVAL",
        Kind = SettingKind.Scalar,
        Live = true,
        HelpName = "DURATION",
        Help = "Sends the --preload requests again at this interval (at least 1s), so the models stay loaded on "
            + "servers whose keep-alive would let them expire; 0 (the default) never. "
            + "Example: --ping-interval 4m",
    };

    public static readonly ValueSetting<long> MaxBodySize = new()
    {
        Flag = "--max-body-size",
        Variable = "GOLLAMAS_MAX_BODY_SIZE",
        Kind = SettingKind.Scalar,
        HelpName = "SIZE",
        Help = "Largest request body a client may send; a larger one gets 413. From 1KiB to 2GiB minus 1 byte. "
            + "Example: --max-body-size 64MiB",
        Default = "256MiB",
        Parse = static (entry, errors) => ValueParsers.Size(entry, MinimumBodySize, MaximumBodySize, BodySizeRange, errors),
        Apply = static (options, value) => options with { Limits = options.Limits with { MaxRequestBodyBytes = value } },
    };

    public static readonly ValueSetting<string> BodyTempDir = new()
    {
        Flag = "--body-temp-dir",
        Variable = "GOLLAMAS_BODY_TEMP_DIR",
        Kind = SettingKind.Scalar,
        HelpName = "DIR",
        Help = "Directory where request bodies over 1 MiB are kept while they are read and forwarded, in files "
            + "removed as soon as they are opened; default the system's temporary directory. "
            + "Example: --body-temp-dir /var/tmp/gollamas",
        Parse = static (entry, errors) => SettingParsers.BodyTempDirectory(entry, errors),
        Apply = static (options, value) => options with { Limits = options.Limits with { BodyTempDirectory = value } },
    };

    public static readonly ValueSetting<TimeSpan> HeaderTimeout = new()
    {
        Flag = "--header-timeout",
        Variable = "GOLLAMAS_HEADER_TIMEOUT",
        Kind = SettingKind.Scalar,
        HelpName = "DURATION",
        Help = "How long a client may take to send its request headers. Example: --header-timeout 10s",
        Default = "30s",
        Parse = static (entry, errors) => ValueParsers.Duration(entry, errors),
        Apply = static (options, value) => options with { Limits = options.Limits with { RequestHeadersTimeout = value } },
    };

    public static readonly ValueSetting<TimeSpan> ConnectTimeout = new()
    {
        Flag = "--connect-timeout",
        Variable = "GOLLAMAS_CONNECT_TIMEOUT",
        Kind = SettingKind.Scalar,
        Live = true,
        HelpName = "DURATION",
        Help = "How long connecting to an Ollama server may take. Example: --connect-timeout 2s",
        Default = "5s",
        Parse = static (entry, errors) => ValueParsers.Duration(entry, errors),
        Apply = static (options, value) => options with { Limits = options.Limits with { ConnectTimeout = value } },
    };

    public static readonly ValueSetting<TimeSpan> IdleTimeout = new()
    {
        Flag = "--idle-timeout",
        Variable = "GOLLAMAS_IDLE_TIMEOUT",
        Kind = SettingKind.Scalar,
        Live = true,
        HelpName = "DURATION",
        Help = "Longest silence from an Ollama server while a request waits for its answer or for the next "
            + "chunk of a stream, model loading included; 0 means none. Example: --idle-timeout 30m",
        Default = "10m",
        Parse = static (entry, errors) => ValueParsers.Duration(entry, errors, zeroMeansNone: true),
        Apply = static (options, value) => options with { Limits = options.Limits with { IdleTimeout = value } },
    };

    public static readonly ValueSetting<int> MaxConnections = new()
    {
        Flag = "--max-connections",
        Variable = "GOLLAMAS_MAX_CONNECTIONS",
        Kind = SettingKind.Scalar,
        HelpName = "N",
        Help = "Most client connections at once; one more is closed at once. Each costs about 13 KiB even when idle; 0 means no limit. "
            + "Example: --max-connections 20000",
        Default = "4096",
        Parse = static (entry, errors) => ValueParsers.WholeNumber(
            entry, minimum: 0, "invalid connection limit (expected a whole number, 0 for no limit)", errors),
        Apply = static (options, value) => options with { Limits = options.Limits with { MaxConnections = value } },
    };

    public static readonly ValueSetting<TimeSpan> DrainTimeout = new()
    {
        Flag = "--drain-timeout",
        Variable = "GOLLAMAS_DRAIN_TIMEOUT",
        Kind = SettingKind.Scalar,
        HelpName = "DURATION",
        Help = "How long requests in flight may run on after SIGINT or SIGTERM before they are cut. Example: --drain-timeout 2m",
        Default = "30s",
        Parse = static (entry, errors) => ValueParsers.Duration(entry, errors),
        Apply = static (options, value) => options with { Limits = options.Limits with { DrainTimeout = value } },
    };

    public static readonly ValueSetting<string?> TlsCertificate = new()
    {
        Flag = "--tls-cert",
        Variable = "GOLLAMAS_TLS_CERT",
        Kind = SettingKind.Scalar,
        HelpName = "PATH",
        Help = "PEM certificate (with its chain) to listen with HTTPS instead of HTTP; needs --tls-key. "
            + "Example: --tls-cert /etc/gollamas/cert.pem",
        Parse = static (entry, errors) => ValueParsers.ReadableFile(entry, errors),
        Apply = static (options, value) => options with { Limits = options.Limits with { TlsCertificatePath = value } },
    };

    public static readonly ValueSetting<string?> TlsKey = new()
    {
        Flag = "--tls-key",
        Variable = "GOLLAMAS_TLS_KEY",
        Kind = SettingKind.Scalar,
        HelpName = "PATH",
        Help = "PEM private key of the --tls-cert certificate. Example: --tls-key /etc/gollamas/key.pem",
        Parse = static (entry, errors) => ValueParsers.ReadableFile(entry, errors),
        Apply = static (options, value) => options with { Limits = options.Limits with { TlsKeyPath = value } },

        Combine = static draft => RequireCertificateAndKey(draft),
    };

    public static readonly ListSetting<string[]> ApiKeys = new()
    {
        Flag = "--api-key",
        Variable = "GOLLAMAS_API_KEYS",
        Kind = SettingKind.Secrets,
        HelpName = "[NAME=]KEY",
        Help = "An API key clients must present (Authorization: Bearer KEY, or x-api-key: KEY); without any key every request is served. "
            + "NAME=KEY names it for the access log and the metrics (a letter, then letters, digits, '.', '_' or '-'); a bare key is named "
            + "key1, key2... by its place among all API keys, these first, then the file's. Repeatable, or a comma list; replaces the variable's list. "
            + "Example: --api-key \"team-a=$KEY1\"",
        Parse = static (entries, errors) => SettingParsers.ApiKeys(entries, errors),
        Apply = static (options, value) => options with { Security = options.Security with { ApiKeys = value } },
    };

    public static readonly ValueSetting<string?> ApiKeysFile = new()
    {
        Flag = "--api-keys-file",
        Variable = "GOLLAMAS_API_KEYS_FILE",
        Kind = SettingKind.Scalar,
        HelpName = "PATH",
        Help = "File of API keys, one per line, NAME: KEY or a bare key ('#' starts a comment), re-read on SIGHUP. "
            + "Example: --api-keys-file /etc/gollamas/keys",
        Parse = static (entry, errors) => ValueParsers.ReadableFile(entry, errors),
        Apply = static (options, value) => options with { Security = options.Security with { ApiKeysFile = value } },
    };

    public static readonly ListSetting<string[]> AdminKeys = new()
    {
        Flag = "--admin-key",
        Variable = "GOLLAMAS_ADMIN_KEYS",
        Kind = SettingKind.Secrets,
        HelpName = "[NAME=]KEY",
        Help = "A key for the admin actions under /gollamas/ (drain, resume, probe, reload), presented as an API key is; it is not an API key "
            + "unless given as one too. Without any admin key the admin actions do not exist. A bare key is named admin1, admin2... "
            + "Repeatable, or a comma list; replaces the variable's list. Example: --admin-key \"ops=$ADMIN_KEY\"",
        Parse = static (entries, errors) => SettingParsers.ApiKeys(entries, errors),
        Apply = static (options, value) => options with { Security = options.Security with { AdminKeys = value } },
    };

    public static readonly ValueSetting<string?> AdminKeysFile = new()
    {
        Flag = "--admin-keys-file",
        Variable = "GOLLAMAS_ADMIN_KEYS_FILE",
        Kind = SettingKind.Scalar,
        HelpName = "PATH",
        Help = "File of admin keys, as the API keys file (NAME: KEY or a bare key per line), re-read on SIGHUP. "
            + "Example: --admin-keys-file /etc/gollamas/admin-keys",
        Parse = static (entry, errors) => ValueParsers.ReadableFile(entry, errors),
        Apply = static (options, value) => options with { Security = options.Security with { AdminKeysFile = value } },
    };

    public static readonly ValueSetting<ListenAddress?> AdminListen = new()
    {
        Flag = "--admin-listen",
        Variable = "GOLLAMAS_ADMIN_LISTEN",
        Kind = SettingKind.Scalar,
        HelpName = "HOST:PORT",
        Help = "Serve the admin actions and GET /gollamas/status on this address too, and the admin actions only here; needs an admin key. "
            + "Example: --admin-listen 127.0.0.1:11435",
        Parse = static (entry, errors) => SettingParsers.Listen(entry, errors),
        Apply = static (options, value) => options with { Security = options.Security with { AdminListen = value } },
        Combine = static draft => RequireAdminKey(draft),
    };

    // The policies of named keys are read together, at the last row (KeyPolicyParser).
    public static readonly Setting KeyModels = new()
    {
        Flag = "--key-models",
        Variable = "GOLLAMAS_KEY_MODELS",
        Kind = SettingKind.Repeatable,
        HelpName = "NAME=MODEL",
        Help = "A model (or alias) the requests of the key named NAME may use; once a key has one, any other model is unknown to it (404). "
            + "Repeatable, or a comma list. Example: --key-models team-a=llama3.2 --key-models team-a=qwen3:8b",
    };

    public static readonly Setting KeyConcurrency = new()
    {
        Flag = "--key-concurrency",
        Variable = "GOLLAMAS_KEY_CONCURRENCY",
        Kind = SettingKind.Repeatable,
        HelpName = "NAME=N",
        Help = "Requests of the key named NAME in flight at once; one more gets 429 with Retry-After. Repeatable, or a comma list. "
            + "Example: --key-concurrency team-a=4",
    };

    public static readonly Setting KeyRate = new()
    {
        Flag = "--key-rate",
        Variable = "GOLLAMAS_KEY_RATE",
        Kind = SettingKind.Repeatable,
        HelpName = "NAME=N",
        Help = "Requests per minute of the key named NAME (a bucket of N, refilled evenly); one more gets 429 with Retry-After. "
            + "Repeatable, or a comma list. Example: --key-rate team-a=60",
        Combine = static draft => KeyPolicyParser.Parse(draft),
    };

    public static readonly ValueSetting<bool> ForwardAuthorization = new()
    {
        Flag = "--forward-authorization",
        Variable = "GOLLAMAS_FORWARD_AUTHORIZATION",
        Kind = SettingKind.Switch,
        Live = true,
        Help = "With API keys required, pass the client's Authorization or x-api-key header (its key) on to Ollama; without this flag it stays at the proxy. Without API keys it is always passed on. "
            + "Example: --forward-authorization",
        Parse = static (entry, errors) => ValueParsers.Boolean(entry, errors),
        Apply = static (options, value) => options with { Security = options.Security with { ForwardAuthorization = value } },
    };

    public static readonly ListSetting<string[]> AllowedHosts = new()
    {
        Flag = "--allowed-hosts",
        Variable = "GOLLAMAS_ALLOWED_HOSTS",
        Kind = SettingKind.Repeatable,
        HelpName = "HOST",
        Help = "Host names a loopback listener answers to besides localhost, *.localhost, *.local, *.internal, "
            + "this machine's name and local addresses (Ollama's guard against DNS rebinding); '*' answers any. "
            + "Repeatable, or a comma list. "
            + "Example: --allowed-hosts ollama.example.com",
        Parse = static (entries, errors) => SettingParsers.AllowedHosts(entries, errors),
        Apply = static (options, value) => options with { Security = options.Security with { AllowedHosts = value } },
    };

    public static readonly ValueSetting<bool> AccessLog = new()
    {
        Flag = "--access-log",
        Variable = "GOLLAMAS_ACCESS_LOG",
        Kind = SettingKind.Switch,
        Help = "One log line per request, at info level. Example: --access-log false",
        Default = "true",
        Parse = static (entry, errors) => ValueParsers.Boolean(entry, errors),
        Apply = static (options, value) => options with { Logging = options.Logging with { AccessLog = value } },
    };

    public static readonly ValueSetting<bool> AccessLogProbes = new()
    {
        Flag = "--access-log-probes",
        Variable = "GOLLAMAS_ACCESS_LOG_PROBES",
        Kind = SettingKind.Switch,
        Help = "Also log /metrics scrapes, /healthz and /readyz probes and HEAD / in the access log; "
            + "they are left out unless they fail. Example: --access-log-probes",
        Parse = static (entry, errors) => ValueParsers.Boolean(entry, errors),
        Apply = static (options, value) => options with { Logging = options.Logging with { AccessLogProbes = value } },
    };

    public static readonly ValueSetting<string> LogFormat = new()
    {
        Flag = "--log-format",
        Variable = "GOLLAMAS_LOG_FORMAT",
        Kind = SettingKind.Scalar,
        HelpName = "FORMAT",
        Help = "Log line format: simple (one line of text) or json (one JSON object per line, for log shippers). "
            + "Example: --log-format json",
        Default = "simple",
        Parse = static (entry, errors) => SettingParsers.LogFormat(entry, errors),
        Apply = static (options, value) => options with { Logging = options.Logging with { Format = value } },
    };

    public static readonly ValueSetting<bool> Metrics = new()
    {
        Flag = "--metrics",
        Variable = "GOLLAMAS_METRICS",
        Kind = SettingKind.Switch,
        Help = "Serve GET /metrics (Prometheus text format). Example: --metrics false",
        Default = "true",
        Parse = static (entry, errors) => ValueParsers.Boolean(entry, errors),
        Apply = static (options, value) => options with { Metrics = options.Metrics with { Enabled = value } },
    };

    public static readonly ValueSetting<ListenAddress?> MetricsListen = new()
    {
        Flag = "--metrics-listen",
        Variable = "GOLLAMAS_METRICS_LISTEN",
        Kind = SettingKind.Scalar,
        HelpName = "HOST:PORT",
        Help = "Serve /metrics on this address only, apart from the proxy's. Example: --metrics-listen 0.0.0.0:9090",
        Parse = static (entry, errors) => SettingParsers.Listen(entry, errors),
        Apply = static (options, value) => options with { Metrics = options.Metrics with { Listen = value } },
    };

    // Either half alone would listen with plain HTTP while the operator believes in HTTPS.
    private static void RequireCertificateAndKey(OptionsDraft draft)
    {
        draft.RequireBoth(TlsCertificate, TlsKey);
        draft.RequireBoth(TlsKey, TlsCertificate);

        // Read here, so a pair that is not PEM, or a key of another certificate, is a
        // configuration error naming both files rather than a failure at start-up.
        if (draft.Input.Single(TlsCertificate) is { } certificate && draft.Input.Single(TlsKey) is { } key
            && File.Exists(certificate.Value.Trim()) && File.Exists(key.Value.Trim()))
        {
            try
            {
                using var loaded = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certificate.Value.Trim(), key.Value.Trim());
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                draft.Errors.Add(new ConfigError(
                    certificate.Source,
                    certificate.Value,
                    $"with {key.Source} \"{key.Value}\": not a PEM certificate and the PEM private key that goes with it"));
            }
            catch (IOException)
            {
                // Unreadable: the file's own row says so.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    // An admin address without an admin key would serve nothing but the status.
    private static void RequireAdminKey(OptionsDraft draft)
    {
        if (draft.Input.Single(AdminListen) is { } entry && draft.Input[AdminKeys].Count == 0 && draft.Input.Single(AdminKeysFile) is null)
        {
            draft.Errors.Add(new ConfigError(AdminKeys.Sources, "", $"missing ({entry.Source} is set; give an admin key or an admin keys file)"));
        }
    }

    /// <summary>Every setting, in the order help lists them and the parser reads them.</summary>
    public static readonly IReadOnlyList<Setting> All =
    [
        Config,
        Listen, Level, Proxies, Connections, Aliases, Discover, ListAliases, Origins,
        HealthInterval, HealthTimeout, HealthFailures, MaxConcurrency, Weight, NumParallel, ConnectionHeaders, ConnectionCas, QueueLength, QueueTimeout, AllowRunning,
        KeepAlive, ForceKeepAlive, NumCtx, ForceNumCtx, Preload, PingInterval,
        MaxBodySize, BodyTempDir, HeaderTimeout, ConnectTimeout, IdleTimeout, MaxConnections, DrainTimeout, TlsCertificate, TlsKey,
        ApiKeys, ApiKeysFile, AdminKeys, AdminKeysFile, AdminListen, KeyModels, KeyConcurrency, KeyRate, ForwardAuthorization, AllowedHosts, AccessLog, AccessLogProbes, LogFormat, Metrics, MetricsListen,
    ];
}
