using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gollamas.Bodies;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Endpoints;
using Gollamas.Fleet;
using Gollamas.Forwarding;
using Gollamas.Metrics;
using Gollamas.Routing;
using Gollamas.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Gollamas.Hosting;

/// <summary>
/// The proxy process: an empty web application on Kestrel core with one terminal request
/// delegate (no routing middleware, no MVC), the registry of servers, and the snapshot of the
/// configuration every request reads.
/// </summary>
internal sealed partial class ProxyServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogger _logger;

    private readonly ProxyLifecycle _lifecycle;
    private readonly TimeSpan _drainTimeout;
    private readonly TimeProvider _time;

    /// <summary>How long the configuration file's directory must stay quiet before the file is read again.</summary>
    internal static readonly TimeSpan ConfigFileQuietPeriod = TimeSpan.FromMilliseconds(250);

    private readonly HostAllowList _hosts;
    private readonly ILoggerFactory _loggerFactory;
    private ConfigReloader? _reloader;

    // The configuration in force, and the lock under which a snapshot is built from it and
    // swapped: a reload (new options) and model discovery (new lists on the connections) each
    // build from the latest of both, one at a time, so neither undoes the other.
    private readonly Lock _configuring = new();
    private GollamasOptions _options;

    private ProxyServer(GollamasOptions options, WebApplication app, ConnectionRegistry connections, ProxySnapshotHolder snapshots, HealthMonitor health, ProxyLifecycle lifecycle, TimeSpan drainTimeout, TimeProvider time, HostAllowList hosts, ILoggerFactory loggerFactory)
    {
        _options = options;
        _hosts = hosts;
        _loggerFactory = loggerFactory;
        _app = app;
        Health = health;
        _lifecycle = lifecycle;
        _drainTimeout = drainTimeout;
        _time = time;
        Connections = connections;
        Snapshots = snapshots;
        _logger = loggerFactory.CreateLogger<ProxyServer>();
    }

    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>The addresses Kestrel actually bound (port 0 resolved).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>The configuration every request reads, one snapshot each; <see cref="ProxySnapshotHolder.Swap"/> replaces it.</summary>
    public ProxySnapshotHolder Snapshots { get; }

    /// <summary>Every Ollama server in use, with its pool, health and gate.</summary>
    public ConnectionRegistry Connections { get; }

    /// <summary>The API keys in force; <see cref="ApiKeys.ReloadAsync"/> re-reads the keys file.</summary>
    public required ApiKeys ApiKeys { get; init; }

    /// <summary>The admin keys in force, apart from the API keys; re-read on SIGHUP as they are.</summary>
    public required ApiKeys AdminKeys { get; init; }

    /// <summary>The admin actions, which reload through the configuration file's reloader when there is one.</summary>
    public required AdminEndpoints Admin { get; init; }

    /// <summary>The background prober and keeper of every server's state.</summary>
    public HealthMonitor Health { get; }

    /// <summary>Loads the --preload models and keeps them loaded.</summary>
    public required ModelPreloader Preloader { get; init; }

    /// <summary>Where request bodies are kept, and the line for decompressing them.</summary>
    public required RequestBodies Bodies { get; init; }

    /// <summary>The counters /metrics shows.</summary>
    public required ProxyMetrics Metrics { get; init; }

    /// <summary>Reports configured models a server lacks, at start-up and after each swap.</summary>
    public required ModelInventoryCheck ModelCheck { get; init; }

    /// <summary>Reads the models of the discovering connections, and has the routes built again when they change.</summary>
    public ModelDiscovery Discovery { get; private set; } = null!;

    /// <summary>
    /// Runs the proxy until <paramref name="cancellationToken"/> fires (SIGINT/SIGTERM), then
    /// lets in-flight requests finish up to the shutdown timeout. Returns the exit code.
    /// </summary>
    /// <remarks>
    /// With a <paramref name="source"/>, the configuration is read again from it when its file
    /// changes and on SIGHUP.
    /// </remarks>
    public static async Task<int> RunAsync(GollamasOptions options, ConfigSource? source, CancellationToken cancellationToken)
    {
        // SIGHUP re-reads the API keys file and the configuration file (and does not end the
        // process, its default). Taken before the server listens, so no signal sent once it says
        // where it listens is lost: one that comes before the server exists is kept for it.
        var hangup = new Lock();
        ProxyServer? running = null;
        var early = false;
        using var reload = HangupSignal.Register(() =>
        {
            lock (hangup)
            {
                early = running is null;
                running?.Hangup();
            }
        });

        ProxyServer server;
        try
        {
            server = await StartAsync(options, new ServerLimits(), configureLogging: null, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // Kestrel reports an address in use or a forbidden port as an IOException around a
            // SocketException. The runtime's messages are resource keys in the published build:
            // the sentence is ours, from the socket error.
            await Console.Error.WriteLineAsync($"gollamas: cannot listen on {options.Listen}: {DescribeBindFailure(ex)}");
            return ExitCodes.BindFailed;
        }

        using var reloads = source?.FilePath is { } file ? server.WatchConfiguration(source, file) : null;
        lock (hangup)
        {
            running = server;
            if (early)
            {
                server.Hangup();
            }
        }

        await using (server)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // SIGINT/SIGTERM: drain below.
            }

            await server.DrainAsync();
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// Runs socket completions, and Kestrel's request processing, on the I/O threads instead of
    /// handing each one to the thread pool. Every step of a forwarded request is a short
    /// non-blocking continuation, and on two cores the hand-offs cost more than the work: in the
    /// load bench this cut the proxy's CPU per small request from 1.7-2.0x nginx's to 1.2-1.3x
    /// and raised throughput from 0.66-0.73 to 0.90-0.94 of nginx's. An operator who sets the
    /// runtime's own variable (to 0) keeps the runtime's default scheduling.
    /// Must run before the first socket is created.
    /// </summary>
    public static void PreferInlineCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
    }

    /// <summary>
    /// Builds and starts the server; tests call this directly with port 0, and may pass their
    /// own <paramref name="timeProvider"/> to drive health probing.
    /// </summary>
    public static async Task<ProxyServer> StartAsync(
        GollamasOptions options,
        ServerLimits limits,
        Action<ILoggingBuilder>? configureLogging,
        CancellationToken cancellationToken,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(limits);

        var certificate = LoadCertificate(options.Limits);
        var hosts = new HostAllowList(options.Security.AllowedHosts);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.Limits.MaxRequestBodyBytes;
            kestrel.Limits.RequestHeadersTimeout = options.Limits.RequestHeadersTimeout;
            kestrel.Limits.MaxConcurrentConnections = options.Limits.MaxConnections > 0 ? options.Limits.MaxConnections : null;
            Listen(kestrel, options.Listen, certificate, checkHosts: !hosts.AllowsAll);
            foreach (var (address, serves) in OwnAddresses(options))
            {
                // Keys travel to the admin address: with HTTPS when the proxy has it.
                Listen(kestrel, address, (serves & EndpointGroups.Admin) != 0 ? certificate : null, checkHosts: !hosts.AllowsAll, serves);
            }
        });

        // The drain itself is bounded by the drain timeout (ProxyLifecycle ends what still runs);
        // the host's own limit only has to leave time for those last in-band errors to go out.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.Limits.DrainTimeout + TimeSpan.FromSeconds(5));
        var inline = Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1";
        builder.Services.Configure<SocketTransportOptions>(sockets =>
        {
            sockets.UnsafePreferInlineScheduling = inline;

            // Read a client's next bytes straight into a buffer rather than first waiting for
            // them with a zero-byte read (which the runtime makes a one-byte peek): one recv per
            // request less. The price is a 4 KiB block per client connection waiting for its next
            // request: about 4.5 MiB more with 1000 open streams in the load bench.
            sockets.WaitForDataBeforeAllocatingBuffer = false;
        });
        if (configureLogging is null)
        {
            ConfigureConsoleLogging(builder.Logging, options.MinimumLevel, options.Logging.Format);
        }
        else
        {
            configureLogging(builder.Logging);
        }

        var app = builder.Build();
        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var time = timeProvider ?? TimeProvider.System;
        var apiKeys = new ApiKeys(options.Security, time, loggerFactory.CreateLogger<ApiKeys>());
        var adminKeys = ApiKeys.ForAdmin(options.Security, time, loggerFactory.CreateLogger<ApiKeys>());
        var keyMetrics = new KeyMetrics();
        var keyLimits = new KeyLimits(options.Security.KeyPolicies, time);
        var connections = new ConnectionRegistry(loggerFactory);
        var snapshots = new ProxySnapshotHolder(ProxySnapshot.Build(options, connections, hosts, apiKeys.IsEnabled, time), connections);
        var fanOut = new FanOut(limits.FanOutTimeout, loggerFactory.CreateLogger<FanOut>());
        var health = new HealthMonitor(connections, options.Health, limits.ProbeAtStart, time, loggerFactory.CreateLogger<HealthMonitor>());
        var lifecycle = new ProxyLifecycle();
        var bodies = new BodyStore(options.Limits.BodyTempDirectory, options.Limits.BodyMemoryThreshold, options.Limits.BodyMemoryBudget);
        var metrics = new ProxyMetrics { Bodies = bodies };
        metrics.RecordConfigLoaded(time.GetUtcNow());
        var requestBodies = new RequestBodies(bodies, new ConcurrencyGate(options.Limits.MaxDecompressions, options.Concurrency.QueueLength));
        var forwarder = new StreamForwarder(lifecycle, loggerFactory.CreateLogger<StreamForwarder>());
        var admin = new AdminEndpoints(health, loggerFactory.CreateLogger<AdminEndpoints>())
        {
            ReloadKeys = async () =>
            {
                if (!apiKeys.HasFile && !adminKeys.HasFile)
                {
                    return null;
                }

                var problems = await Task.WhenAll(apiKeys.ReloadAsync(), adminKeys.ReloadAsync());
                return [.. problems.OfType<string>()];
            },
        };
        var dispatcher = new RequestDispatcher(
            hosts,
            snapshots,
            new EndpointSet(
                new ModelEndpoints(
                    forwarder,
                    health,
                    metrics,
                    requestBodies,
                    new ConversationAffinity(time),
                    keyLimits,
                    loggerFactory.CreateLogger<ModelEndpoints>()),
                new ListEndpoints(fanOut, keyLimits),
                new VersionEndpoint(fanOut),
                new ProbeEndpoints(lifecycle, connections),
                new MetricsEndpoint(metrics, connections, snapshots, keyMetrics, apiKeys, adminKeys),
                new CloudStatusEndpoint(fanOut),
                new OneServerEndpoint(forwarder, health, requestBodies, loggerFactory.CreateLogger<OneServerEndpoint>()),
                new FleetStatusEndpoint(apiKeys, adminKeys, keyLimits, time, time.GetUtcNow()),
                admin),
            apiKeys,
            adminKeys,
            metrics,
            keyMetrics,
            keyLimits,
            RequestDispatcher.MainGroups(options.Metrics, options.Security),
            options.Logging.AccessLog,
            options.Logging.AccessLogProbes,
            loggerFactory.CreateLogger<RequestDispatcher>());
        app.Run(dispatcher.InvokeAsync);

        var preloader = new ModelPreloader(
            snapshots, options.Limits.IdleTimeout, health, time, metrics, loggerFactory.CreateLogger<ModelPreloader>());
        var modelCheck = new ModelInventoryCheck(snapshots, health, options.Health.Timeout, time, loggerFactory.CreateLogger<ModelInventoryCheck>());
        var server = new ProxyServer(options, app, connections, snapshots, health, lifecycle, options.Limits.DrainTimeout, time, hosts, loggerFactory)
        {
            ApiKeys = apiKeys,
            AdminKeys = adminKeys,
            Admin = admin,
            Preloader = preloader,
            Bodies = requestBodies,
            Metrics = metrics,
            ModelCheck = modelCheck,
        };
        server.Discovery = new ModelDiscovery(
            snapshots, options.Health.Interval, options.Health.Timeout, time, () => server.Rebuild(), loggerFactory.CreateLogger<ModelDiscovery>());
        try
        {
            // The models the servers have are routed before the proxy says where it listens
            // (each read bounded by the probe timeout).
            await server.Discovery.RefreshAsync();
            await app.StartAsync(cancellationToken);
            health.Start();
            server.Discovery.Start();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        server.Addresses = addresses.Select(static a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal))).ToArray();
        server.LogConfiguration(options);
        server.LogStartup(options.Notes, snapshots.Current.Routes);

        // After the start-up lines, so the log reads: where it listens, its routes, then the loads
        // and what the servers lack.
        preloader.Start();
        if (limits.CheckModels)
        {
            modelCheck.Start();
        }

        return server;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _app.StopAsync(cancellationToken);

    /// <summary>
    /// Puts <paramref name="options"/> in force for every request from now on: a snapshot built
    /// from them on the same connections, swapped in. Requests running keep theirs; connections
    /// no longer named finish their requests, then close; new ones are probed. Settings that are
    /// fixed for the process (listeners, the Host names, API keys) are not read from them.
    /// </summary>
    public ProxySnapshot Reconfigure(GollamasOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (_configuring)
        {
            _options = options;
            return Rebuild();
        }
    }

    // The snapshot of the configuration in force and the servers' lists as they are now,
    // swapped in: after a reload, and after a discovering server's list changed.
    private ProxySnapshot Rebuild()
    {
        lock (_configuring)
        {
            var next = ProxySnapshot.Build(_options, Connections, _hosts, ApiKeys.IsEnabled, _time);
            Snapshots.Swap(next);
            return next;
        }
    }

    /// <summary>
    /// Reloads the configuration from <paramref name="source"/> when <paramref name="file"/>
    /// changes and on SIGHUP (<see cref="Hangup"/>), until the result is disposed.
    /// </summary>
    public IDisposable WatchConfiguration(ConfigSource source, string file)
    {
        ArgumentNullException.ThrowIfNull(source);
        var reloader = new ConfigReloader(this, source, Metrics, _time, _loggerFactory.CreateLogger<ConfigReloader>());
        var watcher = new ConfigFileWatcher(
            file,
            ConfigFileQuietPeriod,
            _time,
            () => reloader.ReloadAsync("a change of the file"),
            _loggerFactory.CreateLogger<ConfigFileWatcher>(),
            source.Initial.Input is { FileContent.IsEmpty: false } input ? input.FileContent.ToArray() : null);
        _reloader = reloader;
        Admin.Reload = reloader.ReloadWithReportAsync;
        return new Reloads(this, reloader, watcher);
    }

    /// <summary>What SIGHUP does: the API and admin keys files, and the configuration file when there is one, read again.</summary>
    public void Hangup()
    {
        // Each owns the reload it starts, and logs how it ended.
        _ = ApiKeys.ReloadAsync();
        _ = AdminKeys.ReloadAsync();
        _ = _reloader?.ReloadAsync("SIGHUP");
    }

    /// <summary>
    /// Stops after a stop signal: /readyz turns unready, no new connection is accepted, requests
    /// in flight may finish within the drain timeout; then what still runs is ended (a stream
    /// with an in-band error line) and the server stops.
    /// </summary>
    public async Task DrainAsync()
    {
        Log.ShuttingDown(_logger, GoDuration.Format(_drainTimeout));
        _lifecycle.BeginDraining(_drainTimeout, _time);
        await _app.StopAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await Discovery.DisposeAsync();
        await ModelCheck.DisposeAsync();
        await Preloader.DisposeAsync();
        await Health.DisposeAsync();
        Connections.Dispose();
        _lifecycle.Dispose();
    }

    // Where the settings came from, when a file is read: a flag or variable that replaces one
    // of its settings is said, so the file is not trusted for a value it does not decide.
    private void LogConfiguration(GollamasOptions options)
    {
        if (options.ConfigFile is { } file)
        {
            Log.ConfigurationFile(_logger, file);
        }

        foreach (var replaced in options.Overrides)
        {
            Log.SettingOverridden(_logger, replaced.ToString());
        }
    }

    private void LogStartup(IReadOnlyList<string> notes, RouteTable table)
    {
        // One line says it runs, whatever the level: at warn, the level many run it with, it is
        // the only sign of life until something goes wrong.
        var started = _logger.IsEnabled(LogLevel.Information) ? LogLevel.Information : LogLevel.Warning;
        if (_logger.IsEnabled(started))
        {
            var addresses = string.Join(", ", Addresses);
            var models = Count(table.Models.Count, "model");
            var connections = Count(table.AllConnections.Count, "connection");
            Log.Started(_logger, started, VersionInfo.Line, addresses, models, connections);
        }
        foreach (var address in Addresses)
        {
            Log.Listening(_logger, address);
        }

        // What the configuration was read as where it was written otherwise (an address without http://).
        foreach (var note in notes)
        {
            Log.ConfigurationNote(_logger, note);
        }

        // Clients are told "connection 2", metrics say its id: this line maps both to the URL.
        foreach (var connection in table.AllConnections)
        {
            Log.ConnectionConfigured(_logger, connection.PublicName, connection.BaseUri, connection.Id);
        }

        foreach (var route in table.Models)
        {
            // A model found on the servers is named by discovery's own line, with the others of its server.
            if (!route.IsDiscovered)
            {
                Log.RouteConfigured(_logger, route.Name, string.Join(", ", route.Connections.Select(static c => c.DisplayName)));
            }

            foreach (var alias in route.Aliases)
            {
                Log.AliasConfigured(_logger, alias, route.Name);
            }

            if (!route.Defaults.IsEmpty && !route.IsDiscovered)
            {
                Log.DefaultsConfigured(_logger, route.Name, Describe(route.Defaults));
            }
        }
    }

    private static string Count(int count, string noun) =>
        $"{count.ToString(CultureInfo.InvariantCulture)} {noun}{(count == 1 ? "" : "s")}";

    // "keep_alive 10m (forced), num_ctx 8192 when absent, think removed": what the model's
    // requests get, each rule in order by its key (an options entry without "options."), values
    // as configured.
    private static string Describe(Gollamas.Bodies.RequestDefaults defaults) =>
        string.Join(", ", defaults.Rules.Select(static rule => rule.Action switch
        {
            Gollamas.Bodies.RuleAction.Strip => $"{rule.Name} removed",
            Gollamas.Bodies.RuleAction.Force => $"{rule.Name} {rule.Text} (forced)",
            _ => $"{rule.Name} {rule.Text} when absent",
        }));

    /// <summary>
    /// Binds one configured address. Connections accepted on a loopback address are marked for the
    /// Host check (<see cref="ListenerMarks"/>): as in Ollama, it is
    /// the address listened on that decides, not the one a connection came in by, so a proxy on
    /// every interface is not checked even for its loopback clients.
    /// </summary>
    private static void Listen(
        Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel,
        ListenAddress listen,
        X509Certificate2? certificate,
        bool checkHosts,
        EndpointGroups serves = EndpointGroups.None)
    {
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> Configure(bool loopback) => endpoint =>
        {
            if (certificate is not null)
            {
                endpoint.UseHttps(certificate);
            }

            var hostChecked = checkHosts && loopback;
            if (serves != EndpointGroups.None || hostChecked)
            {
                endpoint.Use(next => connection =>
                {
                    // One per connection: it also remembers the connection's last allowed Host.
                    connection.Items[ListenerMarks.Key] = new ListenerMarks { Serves = serves, ChecksHost = hostChecked };
                    return next(connection);
                });
            }
        };

        if (listen.Host.Length == 0)
        {
            kestrel.ListenAnyIP(listen.Port, Configure(loopback: false));
        }
        else if (string.Equals(listen.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(listen.Port, Configure(loopback: true));
        }
        else if (IPAddress.TryParse(listen.Host, out var ip))
        {
            kestrel.Listen(ip, listen.Port, Configure(IPAddress.IsLoopback(ip)));
        }
        else
        {
            foreach (var resolved in Dns.GetHostAddresses(listen.Host))
            {
                kestrel.Listen(resolved, listen.Port, Configure(IPAddress.IsLoopback(resolved)));
            }
        }
    }

    /// <summary>
    /// The addresses of their own, after the proxy's (the order of <see cref="Addresses"/>): the
    /// metrics address, then the admin address; one address given for both serves both.
    /// </summary>
    internal static List<OwnAddress> OwnAddresses(GollamasOptions options)
    {
        var own = new List<OwnAddress>(2);
        if (options.Metrics.Enabled && options.Metrics.Listen is { } metrics)
        {
            own.Add(new OwnAddress(metrics, EndpointGroups.Metrics));
        }

        if (options.Security.AdminListen is { } admin)
        {
            if (own.Count == 1 && own[0].Address == admin)
            {
                own[0] = new OwnAddress(admin, EndpointGroups.Metrics | EndpointGroups.Admin);
            }
            else
            {
                own.Add(new OwnAddress(admin, EndpointGroups.Admin));
            }
        }

        return own;
    }

    /// <summary>An address of its own and the groups of endpoints it serves.</summary>
    internal sealed record OwnAddress(ListenAddress Address, EndpointGroups Serves);

    /// <summary>The PEM certificate and key for HTTPS, when both are set.</summary>
    private static X509Certificate2? LoadCertificate(LimitOptions limits) =>
        limits.TlsCertificatePath is { } cert && limits.TlsKeyPath is { } key
            ? X509Certificate2.CreateFromPemFile(cert, key)
            : null;

    private static void ConfigureConsoleLogging(ILoggingBuilder logging, LogLevel minimumLevel, string format)
    {
        logging.SetMinimumLevel(minimumLevel);
        if (string.Equals(format, "json", StringComparison.Ordinal))
        {
            // One JSON object per line, for log shippers; the fields of every message are kept.
            logging.AddJsonConsole(console =>
            {
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });

            // The simple format with what clients sent escaped (TextLogFormatter). It is handed
            // the simple formatter once the console has them all, from the same list it is in.
            logging.Services.AddSingleton<ConsoleFormatter>(static services => new TextLogFormatter(
                () => services.GetServices<ConsoleFormatter>().First(static f => f.Name == ConsoleFormatterNames.Simple)));
            logging.Services.Configure<ConsoleLoggerOptions>(static console => console.FormatterName = TextLogFormatter.FormatterName);
        }

        // Every level to stderr: stdout stays clean for command output. Requests run on the I/O
        // threads (PreferInlineCompletions), so a full log queue drops lines rather than block one.
        logging.Services.Configure<ConsoleLoggerOptions>(console =>
        {
            console.LogToStandardErrorThreshold = LogLevel.Trace;
            console.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
        });

        // Kestrel's and the host's own chatter stays out unless asked for. The host's only errors
        // are start-up failures, which RunAsync reports as one line: its stack trace would not help.
        logging.AddFilter("Microsoft", minimumLevel > LogLevel.Warning ? minimumLevel : LogLevel.Warning);
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);

        // Whenever this category is enabled at all, the host starts an Activity (fresh trace ids)
        // and a logging scope for every request, only to log its start and end at Information,
        // which the filter above never lets through; the access log says the same. Off: about
        // 0.8 kB less allocated per request (micro --chunks).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
    }

    /// <summary>Why a listen address could not be bound, in words of ours.</summary>
    internal static string DescribeBindFailure(Exception ex)
    {
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.AddressAlreadyInUse => "the address is already in use (another process listens there)",
                    SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                    SocketError.AddressNotAvailable => "this machine has no such address",
                    _ => $"the system refused it (error {socket.NativeErrorCode.ToString(CultureInfo.InvariantCulture)})",
                };
            }
        }

        return "the address could not be bound";
    }

    // Stops the reloads: the watcher first, so no change starts one once the reloader is gone.
    private sealed class Reloads(ProxyServer server, ConfigReloader reloader, ConfigFileWatcher watcher) : IDisposable
    {
        public void Dispose()
        {
            watcher.Dispose();
            server._reloader = null;
            server.Admin.Reload = null;
            reloader.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = LogEventIds.Started, Message = "{Version} listening on {Addresses} with {Models} and {Connections}", EventName = "Started")]
        public static partial void Started(ILogger logger, LogLevel level, string version, string addresses, string models, string connections);

        [LoggerMessage(LogEventIds.Listening, LogLevel.Information, "Listening on {Address}", EventName = "Listening")]
        public static partial void Listening(ILogger logger, Uri address);

        [LoggerMessage(LogEventIds.RouteConfigured, LogLevel.Information, "Route {Model} -> {Backends}", EventName = "RouteConfigured")]
        public static partial void RouteConfigured(ILogger logger, string model, string backends);

        [LoggerMessage(LogEventIds.ConnectionConfigured, LogLevel.Information, "Ollama server {Url} is {Connection} in error messages and connection=\"{Id}\" in metrics", EventName = "ConnectionConfigured")]
        public static partial void ConnectionConfigured(ILogger logger, string connection, Uri url, string id);

        [LoggerMessage(LogEventIds.ConfigurationNote, LogLevel.Information, "Configuration: {Note}", EventName = "ConfigurationNote")]
        public static partial void ConfigurationNote(ILogger logger, string note);

        [LoggerMessage(LogEventIds.DefaultsConfigured, LogLevel.Information, "Model {Model} requests get {Settings}", EventName = "DefaultsConfigured")]
        public static partial void DefaultsConfigured(ILogger logger, string model, string settings);

        [LoggerMessage(LogEventIds.AliasConfigured, LogLevel.Information, "Alias {Alias} -> {Model}", EventName = "AliasConfigured")]
        public static partial void AliasConfigured(ILogger logger, string alias, string model);

        [LoggerMessage(LogEventIds.ConfigurationFile, LogLevel.Information, "Configuration read from {File}", EventName = "ConfigurationFile")]
        public static partial void ConfigurationFile(ILogger logger, string file);

        [LoggerMessage(LogEventIds.SettingOverridden, LogLevel.Information, "{Override}", EventName = "SettingOverridden")]
        public static partial void SettingOverridden(ILogger logger, string @override);

        [LoggerMessage(LogEventIds.ShuttingDown, LogLevel.Information, "Stopping: no new connections; requests in flight may finish within {DrainTimeout}", EventName = "ShuttingDown")]
        public static partial void ShuttingDown(ILogger logger, string drainTimeout);
    }
}
