using System.CommandLine;
using System.Text;
using Gollamas.Config;

namespace Gollamas.Cli;

/// <summary>
/// The text of <c>--help</c> for the root command and <c>check</c>: the description, the usage,
/// the commands, then every setting under its subject (<see cref="HelpGroups"/>). Each setting
/// starts with a line of its flags and a line of its variables and default, then its help and its
/// example, indented under it rather than in a second column, so a narrow terminal keeps most of
/// its width for the words. Lines break between words only, and an example between its flags:
/// a token is never cut, and a wrapped example ends each line with <c>\</c>, as a shell reads it.
/// </summary>
internal static class HelpText
{
    // Where a setting's lines start, and its text under them.
    private const string FlagIndent = "  ";
    private const string TextIndent = "      ";
    private const string ExampleLead = "Example: ";

    /// <summary>The narrowest width laid out; a narrower terminal gets lines of this width.</summary>
    public const int MinWidth = 40;

    /// <param name="command">The command asked about: the root command or <c>check</c>.</param>
    /// <param name="description">Its description, without its example.</param>
    /// <param name="example">A command line that shows it in use.</param>
    /// <param name="width">The terminal's width in columns.</param>
    public static string Render(Command command, string description, string example, int width)
    {
        width = Math.Max(MinWidth, width);
        var text = new StringBuilder();
        text.Append("Description:\n");
        foreach (var paragraph in description.Split('\n'))
        {
            Wrap(text, paragraph, "  ", "    ", width);
        }

        text.Append('\n');
        WrapExample(text, "  Example:", example, "    ", width);
        text.Append("\nUsage:\n");
        var name = command is RootCommand ? "gollamas" : "gollamas " + command.Name;
        text.Append("  ").Append(name).Append(command.Subcommands.Count > 0 ? " [command] [options]\n" : " [options]\n");

        if (command.Subcommands.Count > 0)
        {
            text.Append("\nCommands:\n");
            foreach (var subcommand in command.Subcommands)
            {
                WrapCommand(text, subcommand, width);
            }
        }

        foreach (var group in HelpGroups.WithUngrouped())
        {
            text.Append('\n').Append(group.Title).Append(":\n");
            foreach (var setting in group.Settings)
            {
                WriteSetting(text, setting, width);
            }
        }

        text.Append("\nOther options:\n");
        foreach (var option in command.Options.Concat(command.Parents.OfType<Command>().SelectMany(static p => p.Options.Where(static o => o.Recursive))))
        {
            if (option.Hidden || Settings.All.Any(s => s.Flag == option.Name || s.ListFlag == option.Name))
            {
                continue;
            }

            Wrap(text, string.Join(", ", option.Aliases.Prepend(option.Name)), FlagIndent, FlagIndent, width);
            Wrap(text, option.Description ?? "", TextIndent, TextIndent, width);
        }

        return text.ToString();
    }

    private static void WriteSetting(StringBuilder text, Setting setting, int width)
    {
        var (help, example) = SplitExample(setting.Help);
        if (setting.Kind == SettingKind.Pairs)
        {
            // --proxy (repeatable, no variable of its own) then --proxies, the variable's list.
            WriteOption(text, setting.Flag, setting.Aliases, setting.HelpName, null, help, example, width);
            var (listHelp, listExample) = SplitExample(setting.ListHelp!);
            WriteOption(text, setting.ListFlag!, [], "LIST", Variables(setting, null), listHelp, listExample, width);
            return;
        }

        var helpName = setting.Kind == SettingKind.Switch ? "[BOOL]" : setting.HelpName;
        var fallback = setting.Kind == SettingKind.Switch ? "false" : null;
        WriteOption(text, setting.Flag, setting.Aliases, helpName, Variables(setting, setting.Default ?? fallback), help, example, width);
    }

    private static void WriteOption(StringBuilder text, string flag, IReadOnlyList<string> aliases, string? helpName, string? variables, string help, string? example, int width)
    {
        var flags = string.Join(", ", aliases.Prepend(flag));
        Wrap(text, helpName is null ? flags : $"{flags} {helpName}", FlagIndent, FlagIndent + "  ", width);
        if (variables is not null)
        {
            Wrap(text, variables, TextIndent, TextIndent + "  ", width);
        }

        Wrap(text, help, TextIndent, TextIndent, width);
        if (example is not null)
        {
            WrapExample(text, TextIndent + ExampleLead.TrimEnd(), example, TextIndent + new string(' ', ExampleLead.Length), width);
        }
    }

    // "env GOLLAMAS_LISTEN, LISTEN; default localhost:11434"
    private static string Variables(Setting setting, string? defaultValue)
    {
        var variables = setting.LegacyVariable is null ? setting.Variable : $"{setting.Variable}, {setting.LegacyVariable}";
        return defaultValue is null ? $"env {variables}" : $"env {variables}; default {defaultValue}";
    }

    // A command's name, then its description (its example apart) indented under it.
    private static void WrapCommand(StringBuilder text, Command command, int width)
    {
        var (description, example) = SplitExample(command.Description ?? "");
        text.Append(FlagIndent).Append(command.Name).Append('\n');
        Wrap(text, description, TextIndent, TextIndent, width);
        if (example is not null)
        {
            WrapExample(text, TextIndent + ExampleLead.TrimEnd(), example, TextIndent + new string(' ', ExampleLead.Length), width);
        }
    }

    /// <summary>A row's help without its closing example, and the example's command line (null when it has none).</summary>
    public static (string Help, string? Example) SplitExample(string help)
    {
        var at = help.LastIndexOf(" Example: ", StringComparison.Ordinal);
        if (at < 0)
        {
            return help.StartsWith(ExampleLead, StringComparison.Ordinal) ? ("", help[ExampleLead.Length..]) : (help, null);
        }

        return (help[..at], help[(at + " Example: ".Length)..]);
    }

    /// <summary>
    /// Words of <paramref name="paragraph"/> on lines of at most <paramref name="width"/>
    /// columns, the first after <paramref name="firstIndent"/>, the others after
    /// <paramref name="indent"/>; a word longer than a line stands alone on it, whole.
    /// </summary>
    public static void Wrap(StringBuilder text, string paragraph, string firstIndent, string indent, int width)
    {
        if (paragraph.Length == 0)
        {
            return;
        }

        var line = new StringBuilder(firstIndent);
        var empty = true;
        foreach (var word in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && line.Length + 1 + word.Length > width)
            {
                text.Append(line).Append('\n');
                line.Clear().Append(indent);
                empty = true;
            }

            if (!empty)
            {
                line.Append(' ');
            }

            line.Append(word);
            empty = false;
        }

        text.Append(line).Append('\n');
    }

    /// <summary>
    /// A command line after <paramref name="label"/>, broken between its options (a flag stays with
    /// its value) and, only when one option is wider than a line, between its tokens; each line
    /// but the last ends with <c> \</c>. Quoted tokens ('a b') are one token.
    /// </summary>
    public static void WrapExample(StringBuilder text, string label, string example, string indent, int width)
    {
        var units = Units(Tokens(example));
        var line = new StringBuilder(label);
        var lineHasUnit = false;
        foreach (var unit in units)
        {
            // Room for " unit" and the " \" a following line needs.
            if (lineHasUnit && line.Length + 1 + unit.Length + 2 > width)
            {
                text.Append(line).Append(" \\\n");
                line.Clear().Append(indent);
                lineHasUnit = false;
            }

            var separator = line.Length > 0 && !char.IsWhiteSpace(line[^1]) ? " " : "";
            if (line.Length + separator.Length + unit.Length + 2 <= width || unit.IndexOf(' ', StringComparison.Ordinal) < 0)
            {
                line.Append(separator).Append(unit);
                lineHasUnit = true;
                continue;
            }

            // One option wider than a line: its tokens on lines of their own, never cut.
            foreach (var token in Tokens(unit))
            {
                if (lineHasUnit && line.Length + 1 + token.Length + 2 > width)
                {
                    text.Append(line).Append(" \\\n");
                    line.Clear().Append(indent);
                    lineHasUnit = false;
                }

                line.Append(line.Length > 0 && !char.IsWhiteSpace(line[^1]) ? " " : "").Append(token);
                lineHasUnit = true;
            }
        }

        text.Append(line).Append('\n');
    }

    // Shell-like words: split at spaces outside quotes; the quotes stay in the word.
    private static List<string> Tokens(string commandLine)
    {
        var tokens = new List<string>();
        var token = new StringBuilder();
        var quote = '\0';
        foreach (var c in commandLine)
        {
            if (quote == '\0' && c == ' ')
            {
                if (token.Length > 0)
                {
                    tokens.Add(token.ToString());
                    token.Clear();
                }

                continue;
            }

            if (quote == '\0' && c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == quote)
            {
                quote = '\0';
            }

            token.Append(c);
        }

        if (token.Length > 0)
        {
            tokens.Add(token.ToString());
        }

        return tokens;
    }

    // A flag with the values after it, and a word before any flag (the program, a command) alone.
    private static List<string> Units(List<string> tokens)
    {
        var units = new List<string>();
        foreach (var token in tokens)
        {
            if (units.Count > 0 && !token.StartsWith('-') && units[^1].StartsWith('-'))
            {
                units[^1] += " " + token;
            }
            else
            {
                units.Add(token);
            }
        }

        return units;
    }
}
