using System.Collections.Concurrent;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Hosting;
using Gollamas.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gollamas.Tests.Infrastructure;

/// <summary>
/// The real <see cref="ProxyServer"/> on 127.0.0.1 port 0, configured through the real
/// configuration parser from the same entries a user writes, with its log lines captured.
/// </summary>
internal sealed class ProxyUnderTest : IAsyncDisposable
{
    private readonly ProxyServer _server;

    private readonly GollamasOptions _options;

    private ProxyUnderTest(ProxyServer server, GollamasOptions options, CapturedLogs logs, FakeTimeProvider time)
    {
        _server = server;
        _options = options;
        Logs = logs;
        Time = time;
        BaseUri = server.Addresses[0];
        // No draining of an abandoned response: a test that drops a stream means the client left,
        // and the default (2 s spent reading the rest to reuse the connection) would blur that.
        Client = new HttpClient(new SocketsHttpHandler { ResponseDrainTimeout = TimeSpan.Zero }) { BaseAddress = BaseUri, Timeout = TestTimeouts.Default };
    }

    public Uri BaseUri { get; }

    /// <summary>A client of the proxy. (Tests may use HttpClient; the proxy may not.)</summary>
    public HttpClient Client { get; }

    public CapturedLogs Logs { get; }

    /// <summary>The proxy's clock: health probes run only when a test advances it.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>The running server, for tests that look at its state.</summary>
    public ProxyServer Server => _server;

    /// <summary>
    /// Starts a proxy. Entries are written as on the command line: <c>"llama3.2=http://…"</c>.
    /// Servers are probed only when the test moves the clock (<see cref="ProbeRoundAsync"/>), so
    /// what a fake received is what the test sent; with <paramref name="probeAtStart"/> they are
    /// probed at start-up as in production, and <see cref="ProxyServer"/>'s
    /// <c>Health.FirstRound</c> says when that is over. With <paramref name="checkModels"/> each
    /// server's <c>/api/tags</c> is read at start-up and after each swap, as in production.
    /// </summary>
    public static async Task<ProxyUnderTest> StartAsync(
        IEnumerable<string> proxies,
        IEnumerable<string>? connections = null,
        IEnumerable<string>? aliases = null,
        bool listAliases = false,
        ServerLimits? limits = null,
        IEnumerable<string>? origins = null,
        Func<GollamasOptions, GollamasOptions>? adjust = null,
        Func<ConfigInput, ConfigInput>? input = null,
        ILoggerProvider? logProvider = null,
        bool probeAtStart = false,
        bool checkModels = false)
    {
        var options = Parse(proxies, connections, aliases, listAliases, origins, adjust, input);

        var logs = new CapturedLogs();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var server = await ProxyServer.StartAsync(
            options!,
            (limits ?? new ServerLimits()) with { ProbeAtStart = probeAtStart, CheckModels = checkModels },
            logging =>
            {
                logging.SetMinimumLevel(LogLevel.Debug);
                logging.AddProvider(logs);
                if (logProvider is not null)
                {
                    logging.AddProvider(logProvider);
                }

            },
            CancellationToken.None,
            time);
        return new ProxyUnderTest(server, options!, logs, time);
    }

    /// <summary>
    /// Builds the snapshot of a new configuration, written as for <see cref="StartAsync"/>, on the
    /// running server's registry, and swaps it in; returns it.
    /// </summary>
    public ProxySnapshot Swap(
        IEnumerable<string> proxies,
        IEnumerable<string>? connections = null,
        IEnumerable<string>? aliases = null,
        Func<ConfigInput, ConfigInput>? input = null)
    {
        var options = Parse(proxies, connections, aliases, listAliases: false, origins: null, adjust: null, input);
        return _server.Reconfigure(options);
    }

    private static GollamasOptions Parse(
        IEnumerable<string> proxies,
        IEnumerable<string>? connections,
        IEnumerable<string>? aliases,
        bool listAliases,
        IEnumerable<string>? origins,
        Func<GollamasOptions, GollamasOptions>? adjust,
        Func<ConfigInput, ConfigInput>? input)
    {
        var given = new ConfigInput(
            new ConfigEntry("127.0.0.1:0", "--listen"),
            new ConfigEntry("debug", "--level"),
            proxies.Select(static p => new ConfigEntry(p, "--proxy")).ToArray(),
            (connections ?? []).Select(static c => new ConfigEntry(c, "--connection")).ToArray(),
            (aliases ?? []).Select(static a => new ConfigEntry(a, "--alias")).ToArray(),
            new ConfigEntry(listAliases ? "true" : string.Empty, "--list-aliases"))
        {
            Origins = (origins ?? []).Select(static o => new ConfigEntry(o, "--origins")).ToArray(),
        };
        if (!ConfigParser.TryParse(input is null ? given : input(given), out var options, out var errors))
        {
            throw new InvalidOperationException("test configuration is invalid: " + string.Join("; ", errors));
        }

        return adjust is null ? options! : adjust(options!);
    }

    /// <summary>
    /// Settings written as on the command line (<c>"--keep-alive", "10m"</c>, flag and value
    /// pairs), for the <c>input</c> parameter of <see cref="StartAsync"/>.
    /// </summary>
    public static Func<ConfigInput, ConfigInput> Flags(params string[] flags) => given =>
    {
        var entries = new Dictionary<string, List<ConfigEntry>>(StringComparer.Ordinal);
        for (var i = 0; i < flags.Length; i += 2)
        {
            if (!entries.TryGetValue(flags[i], out var list))
            {
                entries[flags[i]] = list = [];
            }

            list.Add(new ConfigEntry(flags[i + 1], flags[i]));
        }

        var known = new HashSet<string>(StringComparer.Ordinal)
        {
            "--keep-alive", "--force-keep-alive", "--num-ctx", "--force-num-ctx", "--preload", "--ping-interval", "--health-interval", "--discover",
        };
        var unknown = entries.Keys.FirstOrDefault(flag => !known.Contains(flag));
        if (unknown is not null)
        {
            throw new ArgumentException($"{unknown} is not one of the flags this helper maps", nameof(flags));
        }

        List<ConfigEntry> Of(string flag) => entries.GetValueOrDefault(flag) ?? [];
        ConfigEntry? One(string flag) => entries.TryGetValue(flag, out var list) ? list[0] : null;
        var result = given with
        {
            KeepAlive = Of("--keep-alive"),
            ForceKeepAlive = Of("--force-keep-alive"),
            NumCtx = Of("--num-ctx"),
            ForceNumCtx = Of("--force-num-ctx"),
            Preload = Of("--preload"),
            PingInterval = One("--ping-interval"),
            HealthInterval = One("--health-interval"),
        };
        return result.With(Settings.Discover, Of("--discover"));
    };

    /// <summary>
    /// Moves the proxy's clock one probe interval on and waits until every connection was probed
    /// (and its /api/ps read). A start-up round is over first, so its probes are not taken for
    /// this round's; a probe loop still on its way back to its timer keeps the tick.
    /// </summary>
    public async Task ProbeRoundAsync()
    {
        await _server.Health.FirstRound.DefaultTimeout();
        var pending = _server.Connections.Active.ToHashSet();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnProbed(Connection connection)
        {
            lock (pending)
            {
                if (pending.Remove(connection) && pending.Count == 0)
                {
                    done.TrySetResult();
                }
            }
        }

        _server.Health.Probed += OnProbed;
        try
        {
            Time.Advance(_options.Health.Interval);
            await done.Task.DefaultTimeout();
        }
        finally
        {
            _server.Health.Probed -= OnProbed;
        }
    }

    /// <summary>
    /// Moves the proxy's clock one health interval on and waits until model discovery has read
    /// every discovering connection again (and swapped the routes if a list changed).
    /// </summary>
    public async Task DiscoveryRoundAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnRound() => done.TrySetResult();
        _server.Discovery.RoundCompleted += OnRound;
        try
        {
            Time.Advance(_options.Health.Interval);
            await done.Task.DefaultTimeout();
        }
        finally
        {
            _server.Discovery.RoundCompleted -= OnRound;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _server.StopAsync(CancellationToken.None);
        await _server.DisposeAsync();
    }

    /// <summary>Log lines the proxy wrote, as "Level: message".</summary>
    public sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

        public IReadOnlyList<string> Lines => [.. _lines];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        /// <summary>The first line, already written or still to come, that matches.</summary>
        public Task<string> WaitForAsync(Func<string, bool> match)
        {
            lock (_waiters)
            {
                foreach (var line in _lines)
                {
                    if (match(line))
                    {
                        return Task.FromResult(line);
                    }
                }

                var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((match, found));
                return found.Task;
            }
        }

        private void Add(string line)
        {
            lock (_waiters)
            {
                _lines.Enqueue(line);
                foreach (var (match, found) in _waiters)
                {
                    if (match(line))
                    {
                        found.TrySetResult(line);
                    }
                }
            }
        }

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLogs logs) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                logs.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
