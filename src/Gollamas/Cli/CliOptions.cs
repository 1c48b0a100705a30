using System.CommandLine;
using Gollamas.Config;

namespace Gollamas.Cli;

/// <summary>
/// The options of the root command, one per row of <see cref="Settings"/> (two for a
/// <see cref="SettingKind.Pairs"/> row: <c>--proxy</c> and <c>--proxies</c>), and the reading of
/// a parse result plus the environment into a <see cref="ConfigInput"/>. The help text is the
/// user's reference: each description is the row's, with its example, then the variables that
/// stand in for the flag.
/// </summary>
/// <remarks>
/// A fresh set per command rather than static fields: adding an option to a command records the
/// command as its parent, so sharing instances between commands (tests build many, in parallel)
/// would mutate shared state.
/// </remarks>
internal sealed class CliOptions
{
    private const string ListHelpName = "LIST";

    private readonly List<(Setting Setting, Option Option, Option<string>? ListOption)> _options = [];

    public CliOptions()
    {
        foreach (var setting in Settings.All)
        {
            _options.Add(setting.Kind switch
            {
                SettingKind.Scalar => (setting, Scalar(setting, setting.Flag, setting.HelpName, Described(setting, setting.Help)), null),
                SettingKind.Switch => (setting, Switch(setting), null),
                SettingKind.List => (setting, Scalar(setting, setting.Flag, setting.HelpName, Described(setting, setting.Help)), null),
                SettingKind.Repeatable or SettingKind.Secrets => (setting, Repeatable(setting, Described(setting, setting.Help)), null),
                SettingKind.Pairs => (
                    setting,
                    Repeatable(setting, setting.Help),
                    Scalar(setting, setting.ListFlag!, ListHelpName, Described(setting, setting.ListHelp!))),
                _ => throw new InvalidOperationException($"{setting.Flag} has no kind the command line knows"),
            });
        }
    }

    /// <summary>All options, in the order help lists them.</summary>
    public IEnumerable<Option> All
    {
        get
        {
            foreach (var (_, option, listOption) in _options)
            {
                yield return option;
                if (listOption is not null)
                {
                    yield return listOption;
                }
            }
        }
    }

    /// <summary>
    /// Every setting the command line or, for a flag not given, the environment supplies; a
    /// default is left to the row, which names the flag when it reads one.
    /// </summary>
    public ConfigInput Read(ParseResult parseResult, EnvironmentDefaults environment)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        ArgumentNullException.ThrowIfNull(environment);
        var input = new ConfigInput();
        foreach (var (setting, option, listOption) in _options)
        {
            var fromEnvironment = environment.Find(setting);
            input = input.With(setting, setting.Kind switch
            {
                SettingKind.Scalar => Listed(Given(parseResult, (Option<string>)option) ?? fromEnvironment),
                SettingKind.Switch => Listed(Flag(parseResult, (Option<string>)option) ?? fromEnvironment),
                SettingKind.List => Split(Given(parseResult, (Option<string>)option) ?? fromEnvironment),
                SettingKind.Repeatable => Repeated(parseResult, (Option<string[]>)option, fromEnvironment, keepBlank: false),
                SettingKind.Secrets => Repeated(parseResult, (Option<string[]>)option, fromEnvironment, keepBlank: true),
                SettingKind.Pairs => Pairs(parseResult, (Option<string[]>)option, listOption!, fromEnvironment),
                _ => [],
            });
        }

        return input;
    }

    private static string Described(Setting setting, string help) => $"{help} {setting.EnvironmentHelp}";

    private static Option<string> Scalar(Setting setting, string flag, string? helpName, string description)
    {
        var option = new Option<string>(flag, [.. flag == setting.Flag ? setting.Aliases : []])
        {
            HelpName = helpName,
            Description = description,
        };
        if (setting.Default is { } value && flag == setting.Flag)
        {
            option.DefaultValueFactory = _ => value;
        }

        return option;
    }

    // A string rather than a bool: System.CommandLine's bool reads only true and false, and
    // leaves "yes" as a stray argument; the value is read as the variable's is (ValueParsers.Boolean:
    // true/false, 1/0, yes/no, on/off), so one word means the same on the command line, in the
    // environment and in the file.
    private static Option<string> Switch(Setting setting) =>
        new(setting.Flag, [.. setting.Aliases])
        {
            Description = Described(setting, setting.Help) + (setting.Default is "true" ? " [default: true]" : ""),
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = "BOOL",
        };

    private static Option<string[]> Repeatable(Setting setting, string description) =>
        new(setting.Flag, [.. setting.Aliases])
        {
            HelpName = setting.HelpName,
            Arity = ArgumentArity.OneOrMore,
            Description = description,
        };

    // The flag as typed ("-a", "--addr"...), so an error names what the user actually wrote;
    // null when the option was not on the command line (absent, or only its default applied).
    private static string? GivenAs(ParseResult parseResult, Option option) =>
        parseResult.GetResult(option) is { Implicit: false } result ? result.IdentifierToken!.Value : null;

    private static ConfigEntry? Given(ParseResult parseResult, Option<string> option) =>
        GivenAs(parseResult, option) is { } flag ? new ConfigEntry(parseResult.GetValue(option) ?? "", flag) : null;

    // "--flag" alone is true; "--flag false" (or "--flag=no", "--flag 0") turns an on-by-default
    // flag off. A word that is not a boolean is an error naming the flag.
    private static ConfigEntry? Flag(ParseResult parseResult, Option<string> option) =>
        GivenAs(parseResult, option) is { } flag ? new ConfigEntry(parseResult.GetValue(option) is { Length: > 0 } value ? value : "true", flag) : null;

    private static List<ConfigEntry> Listed(ConfigEntry? entry) => entry is { } given ? [given] : [];

    private static List<ConfigEntry> Split(ConfigEntry? list)
    {
        var entries = new List<ConfigEntry>();
        if (list is { } value)
        {
            AddSplit(entries, value);
        }

        return entries;
    }

    // A repeatable flag without a plural form: its values (each may be a comma list) replace
    // the variable's list rather than adding to it, as any flag wins over its variable. With
    // keepBlank, a blank flag value is kept for the parser to reject rather than dropped.
    private static List<ConfigEntry> Repeated(ParseResult parseResult, Option<string[]> option, ConfigEntry? fromEnvironment, bool keepBlank)
    {
        if (parseResult.GetResult(option) is not { Implicit: false } result)
        {
            return Split(fromEnvironment);
        }

        var entries = new List<ConfigEntry>();
        foreach (var token in result.Tokens)
        {
            if (keepBlank)
            {
                foreach (var item in token.Value.Split(','))
                {
                    entries.Add(new ConfigEntry(item.Trim(), option.Name));
                }
            }
            else
            {
                AddSplit(entries, new ConfigEntry(token.Value, option.Name));
            }
        }

        return entries;
    }

    // Repeated singular flags first, then the comma list from the plural flag or else its
    // variables. Like gollamas (urfave/cli string slices), a singular value may itself be a
    // comma list.
    private static List<ConfigEntry> Pairs(ParseResult parseResult, Option<string[]> singular, Option<string> plural, ConfigEntry? fromEnvironment)
    {
        var entries = new List<ConfigEntry>();
        if (parseResult.GetResult(singular) is { Implicit: false } singularResult)
        {
            foreach (var token in singularResult.Tokens)
            {
                AddSplit(entries, new ConfigEntry(token.Value, singular.Name));
            }
        }

        if ((Given(parseResult, plural) ?? fromEnvironment) is { } list)
        {
            AddSplit(entries, list);
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
