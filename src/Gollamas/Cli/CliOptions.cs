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

    /// <summary>All options, in the order help lists them.</summary>
    public IEnumerable<Option> All => [Listen, Level, Proxy, Proxies, Connection, Connections, Alias, Aliases, ListAliases, Origins];
}
