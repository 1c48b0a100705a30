using System.Text;

namespace Gollamas.Bodies;

/// <summary>
/// The fields a body scan records (<see cref="BodyLayout"/>): every field some rule of a
/// configuration names, top-level ones first, then <c>options</c> entries. The scan runs before
/// the route is known, so it records what any route may need; each route's rules are then
/// planned from the one layout. Immutable; built once per configuration.
/// </summary>
internal sealed class WatchedFields
{
    /// <summary>No field: the scan only finds the model.</summary>
    public static readonly WatchedFields None = new([], []);

    private readonly byte[][] _names;
    private readonly bool[] _stripped;

    private WatchedFields(byte[][] names, bool[] stripped, int topLevelCount = 0)
    {
        _names = names;
        _stripped = stripped;
        TopLevelCount = topLevelCount;
        foreach (var s in stripped)
        {
            HasStrips |= s;
        }
    }

    /// <summary>How many fields are watched.</summary>
    public int Count => _names.Length;

    /// <summary>Fields <c>0</c> to <c>TopLevelCount - 1</c> are top-level members; the rest are <c>options</c> entries.</summary>
    public int TopLevelCount { get; }

    /// <summary>Whether a rule strips one of the fields: the scan then records every member of those, not only the last value.</summary>
    public bool HasStrips { get; }

    /// <summary>The fields <paramref name="sets"/> name, each once; a field is stripped when one of the sets strips it.</summary>
    public static WatchedFields Of(IEnumerable<RequestDefaults> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var top = new List<(string Name, bool Stripped)>();
        var options = new List<(string Name, bool Stripped)>();
        foreach (var set in sets)
        {
            foreach (var rule in set.Rules)
            {
                var list = rule.IsOption ? options : top;
                var at = list.FindIndex(f => f.Name == rule.Name);
                var stripped = rule.Action == RuleAction.Strip;
                if (at < 0)
                {
                    list.Add((rule.Name, stripped));
                }
                else if (stripped)
                {
                    list[at] = (rule.Name, true);
                }
            }
        }

        if (top.Count + options.Count == 0)
        {
            return None;
        }

        var all = top.Concat(options).ToArray();
        return new WatchedFields(
            [.. all.Select(static f => Encoding.UTF8.GetBytes(f.Name))],
            [.. all.Select(static f => f.Stripped)],
            top.Count);
    }

    /// <summary>Whether field <paramref name="field"/> is stripped by some rule: its every member is recorded.</summary>
    public bool IsStripped(int field) => _stripped[field];

    /// <summary>Whether field <paramref name="field"/> is an <c>options</c> entry.</summary>
    public bool IsOption(int field) => field >= TopLevelCount;

    /// <summary>The index of the field <paramref name="rule"/> names; -1 when it is not watched.</summary>
    public int IndexOf(RequestRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var (first, end) = rule.IsOption ? (TopLevelCount, _names.Length) : (0, TopLevelCount);
        var name = rule.NameUtf8.Span;
        for (var i = first; i < end; i++)
        {
            if (name.SequenceEqual(_names[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The watched top-level field Go's <c>foldName</c> matches <paramref name="key"/> (unescaped) to; -1 for none.</summary>
    public int MatchTopLevel(ReadOnlySpan<byte> key)
    {
        for (var i = 0; i < TopLevelCount; i++)
        {
            if (BodyKeys.GoFoldEquals(key, _names[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The watched <c>options</c> entry exactly <paramref name="key"/> (unescaped), as Go's map keys match; -1 for none.</summary>
    public int MatchOption(ReadOnlySpan<byte> key)
    {
        for (var i = TopLevelCount; i < _names.Length; i++)
        {
            if (key.SequenceEqual(_names[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
