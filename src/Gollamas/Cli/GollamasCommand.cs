using System.CommandLine;
using System.CommandLine.Invocation;
using Gollamas.Config;

namespace Gollamas.Cli;

/// <summary>
/// The root command: turns a command line plus the environment into validated
/// <see cref="GollamasOptions"/> and hands them to the server, or reports every configuration
/// problem as one line on stderr and exits with <see cref="ExitCodes.ConfigError"/>.
/// </summary>
internal static class GollamasCommand
{
    private const string ErrorPrefix = "gollamas: ";

    private const string Description =
        "Reverse proxy for Ollama: each request goes to the Ollama server that serves its model.\n"
        + "A flag on the command line wins over its environment variables, and GOLLAMAS_X wins over X.\n"
        + "A DURATION reads as in Ollama (250ms, 5s, 10m, 1h30m, 1.5h), or as a bare number of seconds.\n"
        + "A SIZE is a number of bytes, or one with KB, MB, GB (powers of 1000) or KiB, MiB, GiB (1024).\n"
        + "\n"
        + "Example:\n"
        + "  gollamas --listen :11434 --connection gpu1=http://10.0.0.5:11434 --proxy llama3.2=gpu1 \\\n"
        + "    --proxy qwen3:8b=http://10.0.0.6:11434 --alias gpt-4o=llama3.2";

    /// <summary>Builds the root command.</summary>
    /// <param name="getEnvironmentVariable">
    /// Reads one environment variable; injected so tests never touch the real environment.
    /// </param>
    /// <param name="runServer">What to do with valid options; its result is the exit code.</param>
    public static RootCommand Create(
        Func<string, string?> getEnvironmentVariable,
        Func<GollamasOptions, CancellationToken, Task<int>> runServer)
    {
        ArgumentNullException.ThrowIfNull(getEnvironmentVariable);
        ArgumentNullException.ThrowIfNull(runServer);

        var options = new CliOptions();
        var environment = new EnvironmentDefaults(getEnvironmentVariable);
        var root = new RootCommand(Description);
        foreach (var option in options.All)
        {
            root.Options.Add(option);
        }

        foreach (var option in root.Options)
        {
            if (option is VersionOption)
            {
                option.Action = new VersionOptionAction();
            }
        }

        var version = new Command("version", "Prints the version, commit and runtime identifier, then exits. Example: gollamas version");
        version.SetAction(static parseResult =>
        {
            parseResult.InvocationConfiguration.Output.WriteLine(VersionInfo.Line);
            return ExitCodes.Success;
        });
        root.Subcommands.Add(version);

        root.SetAction(async (parseResult, cancellationToken) =>
        {
            var input = ReadInput(parseResult, options, environment);
            if (!ConfigParser.TryParse(input, out var gollamasOptions, out var errors))
            {
                var error = parseResult.InvocationConfiguration.Error;
                foreach (var configError in errors)
                {
                    await error.WriteLineAsync(ErrorPrefix + configError);
                }

                return ExitCodes.ConfigError;
            }

            return await runServer(gollamasOptions!, cancellationToken);
        });

        return root;
    }

    /// <summary>
    /// Parses and invokes <paramref name="args"/>. Unlike <c>ParseResult.InvokeAsync</c>, a
    /// command line System.CommandLine itself rejects (unknown flag, missing value) exits with
    /// <see cref="ExitCodes.ConfigError"/> rather than 1, and an unexpected exception becomes one
    /// line on stderr and <see cref="ExitCodes.Unexpected"/>, never a stack trace.
    /// </summary>
    public static async Task<int> InvokeAsync(
        RootCommand command,
        IReadOnlyList<string> args,
        InvocationConfiguration configuration,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(configuration);

        // Exceptions are ours to report: the default handler prints the whole exception.
        configuration.EnableDefaultExceptionHandler = false;
        try
        {
            var parseResult = command.Parse(args);
            if (parseResult.Action is ParseErrorAction)
            {
                // The built-in ParseErrorAction returns 1 (our Unexpected) and prints the whole
                // help after the errors; a usage mistake is a configuration error, said briefly.
                foreach (var parseError in parseResult.Errors)
                {
                    await configuration.Error.WriteLineAsync(ErrorPrefix + parseError.Message);
                }

                await configuration.Error.WriteLineAsync(ErrorPrefix + "run 'gollamas --help' for usage");
                return ExitCodes.ConfigError;
            }

            return await parseResult.InvokeAsync(configuration, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // SIGINT/SIGTERM (or the caller) asked us to stop; the server reports its own
            // shutdown, so a cancellation that escapes it is a requested stop, not a failure.
            return ExitCodes.Success;
        }
#pragma warning disable CA1031 // The one last-chance handler at the process boundary; it reports and exits.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            await configuration.Error.WriteLineAsync($"{ErrorPrefix}unexpected error: {exception.Message}");
            return ExitCodes.Unexpected;
        }
    }

    private static ConfigInput ReadInput(ParseResult parseResult, CliOptions options, EnvironmentDefaults environment) =>
        new(
            Single(parseResult, options.Listen, environment.Find(EnvironmentDefaults.Listen), CliOptions.DefaultListen),
            Single(parseResult, options.Level, environment.Find(EnvironmentDefaults.Level), CliOptions.DefaultLevel),
            List(parseResult, options.Proxy, options.Proxies, environment, EnvironmentDefaults.Proxies),
            List(parseResult, options.Connection, options.Connections, environment, EnvironmentDefaults.Connections),
            List(parseResult, options.Alias, options.Aliases, environment, EnvironmentDefaults.Aliases),
            Flag(parseResult, options.ListAliases, environment.Find(EnvironmentDefaults.ListAliases)))
        {
            Origins = Split(GivenAs(parseResult, options.Origins) is { } flag
                ? new ConfigEntry(parseResult.GetValue(options.Origins) ?? "", flag)
                : environment.Find(EnvironmentDefaults.Origins, EnvironmentDefaults.OllamaOrigins)),
            HealthInterval = Single(
                parseResult, options.HealthInterval, environment.FindPrefixed(EnvironmentDefaults.HealthInterval), CliOptions.DefaultHealthInterval),
            HealthTimeout = Single(
                parseResult, options.HealthTimeout, environment.FindPrefixed(EnvironmentDefaults.HealthTimeout), CliOptions.DefaultHealthTimeout),
            HealthFailures = Single(
                parseResult, options.HealthFailures, environment.FindPrefixed(EnvironmentDefaults.HealthFailures), CliOptions.DefaultHealthFailures),
            MaxConcurrency = Repeated(parseResult, options.MaxConcurrency, environment.FindPrefixed(EnvironmentDefaults.MaxConcurrency)),
            QueueLength = Single(
                parseResult, options.QueueLength, environment.FindPrefixed(EnvironmentDefaults.QueueLength), CliOptions.DefaultQueueLength),
            QueueTimeout = Single(
                parseResult, options.QueueTimeout, environment.FindPrefixed(EnvironmentDefaults.QueueTimeout), CliOptions.DefaultQueueTimeout),
            AllowRunning = Flag(parseResult, options.AllowRunning, environment.FindPrefixed(EnvironmentDefaults.AllowRunning)),
            KeepAlive = Repeated(parseResult, options.KeepAlive, environment.FindPrefixed(EnvironmentDefaults.KeepAlive)),
            ForceKeepAlive = Repeated(parseResult, options.ForceKeepAlive, environment.FindPrefixed(EnvironmentDefaults.ForceKeepAlive)),
            NumCtx = Repeated(parseResult, options.NumCtx, environment.FindPrefixed(EnvironmentDefaults.NumCtx)),
            ForceNumCtx = Repeated(parseResult, options.ForceNumCtx, environment.FindPrefixed(EnvironmentDefaults.ForceNumCtx)),
            Preload = Repeated(parseResult, options.Preload, environment.FindPrefixed(EnvironmentDefaults.Preload)),
            PingInterval = Optional(parseResult, options.PingInterval, environment.FindPrefixed(EnvironmentDefaults.PingInterval)),
            MaxBodySize = Single(
                parseResult, options.MaxBodySize, environment.FindPrefixed(EnvironmentDefaults.MaxBodySize), CliOptions.DefaultMaxBodySize),
            BodyTempDir = Optional(parseResult, options.BodyTempDir, environment.FindPrefixed(EnvironmentDefaults.BodyTempDir)),
            HeaderTimeout = Single(
                parseResult, options.HeaderTimeout, environment.FindPrefixed(EnvironmentDefaults.HeaderTimeout), CliOptions.DefaultHeaderTimeout),
            ConnectTimeout = Single(
                parseResult, options.ConnectTimeout, environment.FindPrefixed(EnvironmentDefaults.ConnectTimeout), CliOptions.DefaultConnectTimeout),
            IdleTimeout = Single(
                parseResult, options.IdleTimeout, environment.FindPrefixed(EnvironmentDefaults.IdleTimeout), CliOptions.DefaultIdleTimeout),
            MaxConnections = Single(
                parseResult, options.MaxConnections, environment.FindPrefixed(EnvironmentDefaults.MaxConnections), CliOptions.DefaultMaxConnections),
            DrainTimeout = Single(
                parseResult, options.DrainTimeout, environment.FindPrefixed(EnvironmentDefaults.DrainTimeout), CliOptions.DefaultDrainTimeout),
            TlsCertificate = Optional(parseResult, options.TlsCertificate, environment.FindPrefixed(EnvironmentDefaults.TlsCertificate)),
            TlsKey = Optional(parseResult, options.TlsKey, environment.FindPrefixed(EnvironmentDefaults.TlsKey)),
            ApiKeys = Keys(parseResult, options.ApiKey, environment.FindPrefixed(EnvironmentDefaults.ApiKeys)),
            ApiKeysFile = Optional(parseResult, options.ApiKeysFile, environment.FindPrefixed(EnvironmentDefaults.ApiKeysFile)),
            ForwardAuthorization = Flag(
                parseResult, options.ForwardAuthorization, environment.FindPrefixed(EnvironmentDefaults.ForwardAuthorization)),
            AllowedHosts = Repeated(parseResult, options.AllowedHosts, environment.FindPrefixed(EnvironmentDefaults.AllowedHosts)),
            AccessLog = Flag(parseResult, options.AccessLog, environment.FindPrefixed(EnvironmentDefaults.AccessLog), fallback: true),
            LogFormat = Single(
                parseResult, options.LogFormat, environment.FindPrefixed(EnvironmentDefaults.LogFormat), CliOptions.DefaultLogFormat),
            Metrics = Flag(parseResult, options.Metrics, environment.FindPrefixed(EnvironmentDefaults.Metrics), fallback: true),
            MetricsListen = Optional(parseResult, options.MetricsListen, environment.FindPrefixed(EnvironmentDefaults.MetricsListen)),
        };

    private static List<ConfigEntry> Split(ConfigEntry? list)
    {
        var entries = new List<ConfigEntry>();
        if (list is { } value)
        {
            AddSplit(entries, value);
        }

        return entries;
    }

    // The flag as typed ("-a", "--addr"...), so an error names what the user actually wrote;
    // null when the option was not on the command line (absent, or only its default applied).
    private static string? GivenAs(ParseResult parseResult, Option option) =>
        parseResult.GetResult(option) is { Implicit: false } result ? result.IdentifierToken!.Value : null;

    private static ConfigEntry Single(ParseResult parseResult, Option<string> option, ConfigEntry? fromEnvironment, string fallback)
    {
        if (GivenAs(parseResult, option) is { } flag)
        {
            return new ConfigEntry(parseResult.GetValue(option) ?? "", flag);
        }

        return fromEnvironment ?? new ConfigEntry(fallback, option.Name);
    }

    // A setting without a default: null when neither the flag nor its variable gives it.
    private static ConfigEntry? Optional(ParseResult parseResult, Option<string> option, ConfigEntry? fromEnvironment) =>
        GivenAs(parseResult, option) is { } flag ? new ConfigEntry(parseResult.GetValue(option) ?? "", flag) : fromEnvironment;

    // "--flag" alone is true and "--flag false" (or "--flag=false") is false: System.CommandLine
    // reads a bool option's optional argument only when it is a bool word, which also lets an
    // on-by-default flag be turned off on the command line.
    private static ConfigEntry Flag(ParseResult parseResult, Option<bool> option, ConfigEntry? fromEnvironment, bool fallback = false)
    {
        if (GivenAs(parseResult, option) is { } flag)
        {
            return new ConfigEntry(parseResult.GetValue(option) ? "true" : "false", flag);
        }

        return fromEnvironment ?? new ConfigEntry(fallback ? "true" : "", option.Name);
    }

    // A repeatable flag without a plural form: its values (each may be a comma list) replace
    // the variable's list rather than adding to it, as any flag wins over its variable.
    private static List<ConfigEntry> Repeated(ParseResult parseResult, Option<string[]> option, ConfigEntry? fromEnvironment)
    {
        if (parseResult.GetResult(option) is not { Implicit: false } result)
        {
            return Split(fromEnvironment);
        }

        var entries = new List<ConfigEntry>();
        foreach (var token in result.Tokens)
        {
            AddSplit(entries, new ConfigEntry(token.Value, option.Name));
        }

        return entries;
    }

    // Like Repeated, except that a blank flag value is kept for the parser to reject rather than
    // dropped: "--api-key $KEY" with KEY unset must stop the start, not serve without a key.
    private static List<ConfigEntry> Keys(ParseResult parseResult, Option<string[]> option, ConfigEntry? fromEnvironment)
    {
        if (parseResult.GetResult(option) is not { Implicit: false } result)
        {
            return Split(fromEnvironment);
        }

        var entries = new List<ConfigEntry>();
        foreach (var token in result.Tokens)
        {
            foreach (var item in token.Value.Split(','))
            {
                entries.Add(new ConfigEntry(item.Trim(), option.Name));
            }
        }

        return entries;
    }

    // Repeated singular flags first, then the comma list from the plural flag or else its
    // variables. Like gollamas (urfave/cli string slices), a singular value may itself be a
    // comma list.
    private static List<ConfigEntry> List(
        ParseResult parseResult,
        Option<string[]> singular,
        Option<string> plural,
        EnvironmentDefaults environment,
        string variable)
    {
        var entries = new List<ConfigEntry>();
        if (parseResult.GetResult(singular) is { Implicit: false } singularResult)
        {
            foreach (var token in singularResult.Tokens)
            {
                AddSplit(entries, new ConfigEntry(token.Value, singular.Name));
            }
        }

        var list = GivenAs(parseResult, plural) is { } flag
            ? new ConfigEntry(parseResult.GetValue(plural) ?? "", flag)
            : environment.Find(variable);
        if (list is { } value)
        {
            AddSplit(entries, value);
        }

        return entries;
    }

    // An entirely blank list means "none" (gollamas ignored an empty --proxies); a blank item
    // inside a list ("a=b,,c=d", a trailing comma) is kept so the parser reports it.
    private static void AddSplit(List<ConfigEntry> entries, ConfigEntry list)
    {
        if (string.IsNullOrWhiteSpace(list.Value))
        {
            return;
        }

        foreach (var item in list.Value.Split(','))
        {
            entries.Add(list with { Value = item.Trim() });
        }
    }
}
