namespace Gollamas.Config;

/// <summary>
/// One node of a configuration file, with the line it starts on so that every problem can name
/// it. Unlike YamlDotNet's representation model, a mapping keeps a repeated key (YAML forbids
/// it), so that the loader reports it with every other problem rather than stopping at it.
/// </summary>
internal sealed class ConfigNode
{
    private ConfigNode(ConfigNodeKind kind, int line)
    {
        Kind = kind;
        Line = line;
    }

    public ConfigNodeKind Kind { get; }

    /// <summary>The line the node starts on, from 1.</summary>
    public int Line { get; }

    /// <summary>A scalar's text; empty for the other kinds.</summary>
    public string Text { get; private init; } = "";

    /// <summary>A scalar that says "no value": empty, <c>~</c> or <c>null</c>, unquoted.</summary>
    public bool IsNull { get; private init; }

    /// <summary>A scalar written unquoted and untagged: <c>0.2</c> and <c>true</c> are then a number and a boolean.</summary>
    public bool IsPlain { get; private init; }

    /// <summary>A sequence's items, in order.</summary>
    public List<ConfigNode> Items { get; } = [];

    /// <summary>A mapping's keys and values, in order, repeated keys included.</summary>
    public List<KeyValuePair<ConfigNode, ConfigNode>> Pairs { get; } = [];

    public static ConfigNode Scalar(int line, string text, bool isNull, bool isPlain = false) =>
        new(ConfigNodeKind.Scalar, line) { Text = text, IsNull = isNull, IsPlain = isPlain };

    public static ConfigNode Sequence(int line) => new(ConfigNodeKind.Sequence, line);

    public static ConfigNode Mapping(int line) => new(ConfigNodeKind.Mapping, line);

    /// <summary>"a list", "a mapping", "a value": what the node is, for an error that expected something else.</summary>
    public string Described => Kind switch
    {
        ConfigNodeKind.Sequence => "a list",
        ConfigNodeKind.Mapping => "a mapping",
        _ => "a value",
    };
}
