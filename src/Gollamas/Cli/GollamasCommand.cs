using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Hosting;

namespace Gollamas.Cli;

/// <summary>
/// The root command: turns a command line plus the environment into validated
/// <see cref="GollamasOptions"/> and hands them to the server, or reports every configuration
/// problem as one line on stderr and exits with <see cref="ExitCodes.ConfigError"/>. Its
/// <c>check</c> subcommand reads the same options the same way, then checks the servers instead.
/// </summary>
internal static class GollamasCommand
{
    private const string ErrorPrefix = "gollamas: ";

    private const string Description =
        "Reverse proxy for Ollama: each request goes to the Ollama server that serves its model.\n"
        + "A flag on the command line wins over its environment variables, and GOLLAMAS_X wins over X.\n"
        + "Both win over the --config file, setting by setting.\n"
        + "A DURATION reads as in Ollama (250ms, 5s, 10m, 1h30m, 1.5h), or as a bare number of seconds.\n"
        + "A SIZE is a number of bytes, or one with KB, MB, GB (powers of 1000) or KiB, MiB, GiB (1024).";

    private const string Example =
        "gollamas --listen :11434 --connection gpu1=http://10.0.0.5:11434 --proxy llama3.2=gpu1 "
        + "--proxy qwen3:8b=http://10.0.0.6:11434 --alias gpt-4o=llama3.2";

    private const string CheckDescription =
        "Checks a configuration without serving: validates it, asks every Ollama server whether it answers, "
        + "its version and its models, prints one table. Exits 0 when every server answers and has its "
        + "configured models, 1 when not, 2 for a configuration error. Takes the same options. "
        + "Example: gollamas check --proxy llama3.2=http://gpu1:11434";

    /// <summary>Builds the root command.</summary>
    /// <param name="getEnvironmentVariable">
    /// Reads one environment variable; injected so tests never touch the real environment.
    /// </param>
    /// <param name="runServer">What to do with valid options; its result is the exit code.</param>
    /// <param name="environmentVariableNames">
    /// The names of the variables set, for the warning about one named like ours that no setting
    /// reads (GOLLAMAS_PROXY); none when null.
    /// </param>
    /// <param name="runCheck">
    /// What <c>gollamas check</c> does with valid options, writing to the output it is given;
    /// <see cref="ConfigurationCheck.RunAsync"/> when null.
    /// </param>
    public static RootCommand Create(
        Func<string, string?> getEnvironmentVariable,
        Func<GollamasOptions, ConfigSource?, CancellationToken, Task<int>> runServer,
        Func<GollamasOptions, TextWriter, CancellationToken, Task<int>>? runCheck = null,
        Func<IEnumerable<string>>? environmentVariableNames = null)
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
            // Descriptions of ours: the library's come from its resources, which a trimmed
            // build may show as resource keys.
            if (option is VersionOption)
            {
                option.Action = new VersionOptionAction();
                option.Description = "Prints the version, then exits.";
            }
            else if (option is HelpOption)
            {
                option.Action = new GroupedHelpAction(Description, Example);
                option.Description = "Prints this help, then exits.";
            }
        }

        // Its own option instances: an option records the command it was added to.
        var checkOptions = new CliOptions();
        var check = new Command("check", CheckDescription);
        foreach (var option in checkOptions.All)
        {
            check.Options.Add(option);
        }

        var checkServers = runCheck ?? ConfigurationCheck.RunAsync;
        check.SetAction(async (parseResult, cancellationToken) =>
        {
            if (await ReadConfigurationAsync(parseResult, checkOptions, environment, getEnvironmentVariable, environmentVariableNames) is not var (reading, _))
            {
                return ExitCodes.ConfigError;
            }

            var gollamasOptions = reading.Options!;

            // What the server would log at start: how an address without a scheme was read.
            foreach (var note in gollamasOptions.Notes)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync(ErrorPrefix + note);
            }

            return await checkServers(gollamasOptions, parseResult.InvocationConfiguration.Output, cancellationToken);
        });
        root.Subcommands.Add(check);

        var version = new Command("version", "Prints the version, commit and runtime identifier, then exits. Example: gollamas version");
        version.SetAction(static parseResult =>
        {
            parseResult.InvocationConfiguration.Output.WriteLine(VersionInfo.Line);
            return ExitCodes.Success;
        });
        root.Subcommands.Add(version);

        root.SetAction(async (parseResult, cancellationToken) =>
        {
            if (await ReadConfigurationAsync(parseResult, options, environment, getEnvironmentVariable, environmentVariableNames) is not var (reading, input))
            {
                return ExitCodes.ConfigError;
            }

            // With a file, the same command line and environment are read again with it on each reload.
            var gollamasOptions = reading.Options!;
            var source = gollamasOptions.ConfigFile is { } file ? new ConfigSource(file, () => ConfigSources.Read(input), reading) : null;
            return await runServer(gollamasOptions, source, cancellationToken);
        });

        return root;
    }

    /// <summary>
    /// The one reading of a configuration, for the server and <c>check</c> alike: the command
    /// line, the environment and the --config file into validated options (with the input they
    /// were read from), or every problem on stderr (then null).
    /// </summary>
    private static async Task<(ConfigReading Reading, ConfigInput Input)?> ReadConfigurationAsync(
        ParseResult parseResult, CliOptions options, EnvironmentDefaults environment, Func<string, string?> getEnvironmentVariable, Func<IEnumerable<string>>? environmentVariableNames)
    {
        // The variables the configuration reads values from (env:NAME) are the user's, whatever their name.
        var read = new HashSet<string>(StringComparer.Ordinal);
        var input = options.Read(parseResult, environment) with
        {
            GetEnvironmentVariable = name =>
            {
                read.Add(name);
                return getEnvironmentVariable(name);
            },
        };
        var reading = ConfigSources.Read(input);
        var error = parseResult.InvocationConfiguration.Error;
        if (environmentVariableNames is not null)
        {
            foreach (var warning in NearMisses.UnknownVariables(environmentVariableNames().Where(name => !read.Contains(name))))
            {
                await error.WriteLineAsync(ErrorPrefix + warning);
            }
        }

        if (reading.Options is not null)
        {
            return (reading, input);
        }

        foreach (var configError in reading.Errors)
        {
            await error.WriteLineAsync(ErrorPrefix + configError);
        }

        return null;
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
                // An unknown flag is said with the one it probably meant.
                var explained = new HashSet<string>(StringComparer.Ordinal);
                foreach (var message in NearMisses.UnknownFlags(parseResult, args, explained))
                {
                    await configuration.Error.WriteLineAsync(ErrorPrefix + message);
                }

                foreach (var parseError in parseResult.Errors)
                {
                    if (!explained.Any(token => parseError.Message.Contains($"'{token}'", StringComparison.Ordinal)))
                    {
                        await configuration.Error.WriteLineAsync(ErrorPrefix + parseError.Message);
                    }
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
            // The runtime's message is a resource key in the published binary: the exception's
            // type says more to whoever reports it, and is no sentence a user needs to parse.
            await configuration.Error.WriteLineAsync($"{ErrorPrefix}unexpected error ({exception.GetType().FullName}); please report it");
            return ExitCodes.Unexpected;
        }
    }
}
