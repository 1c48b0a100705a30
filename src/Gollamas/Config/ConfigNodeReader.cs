using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gollamas.Config;

/// <summary>
/// Reads the text of a configuration file into <see cref="ConfigNode"/>s with YamlDotNet's
/// parser (its event stream: no reflection, so trim- and AOT-safe), keeping every node's line.
/// </summary>
/// <remarks>
/// The representation model (<c>YamlStream</c>) would do the same, but it throws at the first
/// repeated key; reading the events lets the loader report that key together with every other
/// problem of the file. Anchors and aliases (<c>&amp;a</c>, <c>*a</c>) are followed; an alias
/// shares its anchor's node rather than copying it, so no file can make the tree grow beyond
/// its own text.
/// </remarks>
internal sealed class ConfigNodeReader
{
    // Far beyond any sensible file (a model's settings are three levels down), and well within
    // the stack this recursive reader may use.
    private const int MaximumDepth = 64;

    private readonly Parser _parser;
    private readonly string _fileName;
    private readonly List<ConfigError> _errors;
    private readonly Dictionary<string, ConfigNode> _anchors = new(StringComparer.Ordinal);

    private ConfigNodeReader(string text, string fileName, List<ConfigError> errors)
    {
        _parser = new Parser(new StringReader(text));
        _fileName = fileName;
        _errors = errors;
    }

    /// <summary>
    /// The root node of the file's one document, or null when the file holds none (empty, or
    /// only comments). Text that is not YAML adds the parser's own message, at its line, to
    /// <paramref name="errors"/>, and the result is then of no use.
    /// </summary>
    public static ConfigNode? Read(string text, string fileName, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(errors);
        var reader = new ConfigNodeReader(text, fileName, errors);
        try
        {
            return reader.ReadStream();
        }
        catch (YamlException exception)
        {
            // YamlDotNet's messages are its own English sentences ("While scanning a quoted
            // scalar, found unexpected end of stream."), not runtime resource keys.
            errors.Add(new ConfigError(reader.Location(exception.Start), "", exception.Message));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws a bare InvalidOperationException (whose message is a
            // runtime resource key in the published build) for one case: a plain value inside
            // an unclosed flow collection, on a line indented less than the collection.
            errors.Add(new ConfigError(
                reader.Location(reader._parser.Current?.Start ?? Mark.Empty),
                "",
                "not valid YAML after this point: a '[' or '{' not closed, or going on at a smaller indentation"));
            return null;
        }
    }

    /// <summary>"gollamas.yaml:12": where a node or a problem is, as an error names it.</summary>
    public static string Location(string fileName, long line) => string.Create(CultureInfo.InvariantCulture, $"{fileName}:{line}");

    private string Location(Mark mark) => Location(_fileName, mark.Line);

    private ConfigNode? ReadStream()
    {
        _parser.Consume<StreamStart>();
        ConfigNode? root = null;
        while (_parser.TryConsume<DocumentStart>(out var document))
        {
            if (root is not null)
            {
                _errors.Add(new ConfigError(Location(document.Start), "", "a second YAML document (one file holds one, without '---' between parts)"));
                return root;
            }

            root = ReadNode(depth: 0);
            _parser.Consume<DocumentEnd>();
        }

        _parser.Consume<StreamEnd>();
        return root;
    }

    private ConfigNode ReadNode(int depth)
    {
        var start = _parser.Current?.Start ?? Mark.Empty;
        if (depth > MaximumDepth)
        {
            throw new YamlException(start, start, $"Nesting deeper than {MaximumDepth} levels.");
        }

        var line = (int)Math.Min(start.Line, int.MaxValue);
        if (_parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (_anchors.TryGetValue(alias.Value.Value, out var anchored))
            {
                return anchored;
            }

            throw new YamlException(alias.Start, alias.End, $"Alias *{alias.Value.Value} names no anchor above it.");
        }

        ConfigNode node;
        if (_parser.TryConsume<Scalar>(out var scalar))
        {
            // Only an unquoted, untagged scalar may mean null, as YAML's core schema reads it.
            var isPlain = scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty;
            var isNull = isPlain && scalar.Value is "" or "~" or "null" or "Null" or "NULL";
            node = ConfigNode.Scalar(line, scalar.Value, isNull, isPlain);
            Remember(scalar, node);
        }
        else if (_parser.TryConsume<SequenceStart>(out var sequence))
        {
            node = ConfigNode.Sequence(line);
            Remember(sequence, node);
            while (!_parser.TryConsume<SequenceEnd>(out _))
            {
                node.Items.Add(ReadNode(depth + 1));
            }
        }
        else
        {
            var mapping = _parser.Consume<MappingStart>();
            node = ConfigNode.Mapping(line);
            Remember(mapping, node);
            while (!_parser.TryConsume<MappingEnd>(out _))
            {
                var key = ReadNode(depth + 1);
                node.Pairs.Add(new KeyValuePair<ConfigNode, ConfigNode>(key, ReadNode(depth + 1)));
            }
        }

        return node;
    }

    // Remembered as soon as it starts, as YAML defines an anchor; an alias inside its own
    // node is therefore found, and returns the node being built rather than recursing.
    private void Remember(NodeEvent nodeEvent, ConfigNode node)
    {
        if (!nodeEvent.Anchor.IsEmpty)
        {
            _anchors[nodeEvent.Anchor.Value] = node;
        }
    }
}
