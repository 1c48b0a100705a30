using System.Globalization;

namespace Gollamas.Config;

/// <summary>
/// Reads a number given for every connection (<c>N</c>) and per connection (<c>ID_OR_URL=N</c>),
/// as <c>--weight</c> and <c>--num-parallel</c> take it: the connections are the ones the routes'
/// step declared, named by id or URL.
/// </summary>
internal static class PerConnectionNumbers
{
    /// <summary>The combining step of --weight.</summary>
    public static void ReadWeights(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        // In thousandths: one dictionary type for both rows, and no other in the binary.
        var (all, per) = Read(draft.Input[Settings.Weight], draft, "weight", static t => Thousandths(t, 0.1, 100), "a number from 0.1 to 100");
        draft.Options = draft.Options with { Routing = draft.Options.Routing with { DefaultWeightThousandths = all ?? 1000, WeightThousandths = per } };
    }

    /// <summary>The combining step of --num-parallel.</summary>
    public static void ReadNumParallel(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var (all, per) = Read(draft.Input[Settings.NumParallel], draft, "number of parallel requests", static t => Whole(t, 1, 1024), "a whole number from 1 to 1024");
        draft.Options = draft.Options with
        {
            Routing = draft.Options.Routing with
            {
                DefaultNumParallel = all ?? 1,
                NumParallel = per,
            },
        };
    }

    /// <param name="entries">The row's entries.</param>
    /// <param name="draft">Where the connections are, and where errors go.</param>
    /// <param name="what">What the number is, for messages: "weight".</param>
    /// <param name="parse">Reads one number; false when it is not one the row accepts.</param>
    /// <param name="expected">What a number should be, for messages: "a number from 0.1 to 100".</param>
    public static (int? Default, Dictionary<string, int> PerConnection) Read(
        IReadOnlyList<ConfigEntry> entries, OptionsDraft draft, string what, Func<string, int?> parse, string expected)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(draft);
        var form = $"(expected N or ID_OR_URL=N, N {expected})";
        int? all = null;
        var perConnection = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var text = entry.Value.Trim();
            if (text.Length == 0)
            {
                draft.Errors.Add(new ConfigError(entry.Source, entry.Value, $"empty entry {form}"));
                continue;
            }

            // A number never holds '=': the last one separates it from the connection.
            var equals = text.LastIndexOf('=');
            var numberText = (equals < 0 ? text : text[(equals + 1)..]).Trim();
            if (parse(numberText) is not { } number)
            {
                draft.Errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid {what} '{numberText}' {form}"));
                continue;
            }

            if (equals < 0)
            {
                if (all is { } previous)
                {
                    draft.Errors.Add(new ConfigError(entry.Source, entry.Value, $"{what} for every connection already given (give ID_OR_URL=N for one connection)"));
                }
                else
                {
                    all = number;
                }

                continue;
            }

            var target = text[..equals].Trim();
            if (target.Length == 0)
            {
                draft.Errors.Add(new ConfigError(entry.Source, entry.Value, $"empty connection id or URL {form}"));
                continue;
            }

            if (!RouteParser.TryResolveConnection(entry, target, draft.Connections, draft.Errors, draft.Notes, out var id))
            {
                continue;
            }

            if (!perConnection.TryAdd(id, number))
            {
                draft.Errors.Add(new ConfigError(entry.Source, entry.Value, $"{what} of connection '{id}' already given"));
            }
        }

        return (all, perConnection);
    }

    /// <summary>A decimal from <paramref name="minimum"/> to <paramref name="maximum"/> in thousandths, or null.</summary>
    public static int? Thousandths(string text, double minimum, double maximum) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum ? (int)Math.Round(value * 1000) : null;

    /// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/>, or null.</summary>
    public static int? Whole(string text, int minimum, int maximum) =>
        ValueParsers.TryParseWholeNumber(text, minimum, out var value) && value <= maximum ? value : null;
}
