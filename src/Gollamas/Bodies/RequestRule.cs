using System.Text;
using System.Text.Json;

namespace Gollamas.Bodies;

/// <summary>
/// One rule for one field of a model-loading request body: a top-level member (<c>keep_alive</c>,
/// <c>think</c>) or an entry of <c>options</c> (<c>options.num_ctx</c>), set when absent, forced,
/// or stripped. Immutable; its JSON fragments are encoded once here, so applying it allocates nothing.
/// </summary>
internal sealed class RequestRule
{
    /// <summary>Longest field name: every one Ollama reads is shorter, and the scan keeps a key this long whole.</summary>
    public const int MaxNameLength = 24;

    private const string OptionsPrefix = "options.";

    /// <param name="action">What the rule does.</param>
    /// <param name="field">A top-level member name or <c>options.NAME</c>, valid by <see cref="TryParseField"/>.</param>
    /// <param name="json">The value as one JSON value (<c>-1</c>, <c>"5m"</c>, <c>{"type":"object"}</c>); null for <see cref="RuleAction.Strip"/>.</param>
    /// <param name="text">The value as the operator wrote it, for logs; <paramref name="json"/> when null.</param>
    public RequestRule(RuleAction action, string field, string? json, string? text = null)
    {
        if (!TryParseField(field, out var isOption, out var name, out var problem))
        {
            throw new ArgumentException(problem, nameof(field));
        }

        if ((action == RuleAction.Strip) != (json is null))
        {
            throw new ArgumentException("A strip rule has no value; the others have one.", nameof(json));
        }

        Action = action;
        Field = field;
        IsOption = isOption;
        Name = name;
        NameUtf8 = Encoding.UTF8.GetBytes(name);
        if (json is not null)
        {
            var value = json.Trim();
            Json = value;
            Text = text ?? value;
            Value = Encoding.UTF8.GetBytes(value);
            Member = Encoding.UTF8.GetBytes($",\"{name}\":{value}");
            if (isOption)
            {
                OptionsMember = Encoding.UTF8.GetBytes($",\"options\":{{\"{name}\":{value}}}");
            }
        }
    }

    public RuleAction Action { get; }

    /// <summary>The field as configured: <c>keep_alive</c>, <c>options.num_ctx</c>.</summary>
    public string Field { get; }

    /// <summary>Whether the field is an entry of <c>options</c> (a key of Go's <c>map[string]any</c>, matched exactly).</summary>
    public bool IsOption { get; }

    /// <summary>The member's key: the field, or the part after <c>options.</c>.</summary>
    public string Name { get; }

    public ReadOnlyMemory<byte> NameUtf8 { get; }

    /// <summary>The value as one JSON value; null for a strip rule.</summary>
    public string? Json { get; }

    /// <summary>The value as the operator wrote it (<c>10m</c> for keep_alive's <c>600</c>); null for a strip rule.</summary>
    public string? Text { get; }

    /// <summary>The JSON value alone; empty for a strip rule.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary><c>,"name":V</c>: a member to append to a non-empty object (drop the comma for an empty one).</summary>
    public ReadOnlyMemory<byte> Member { get; }

    /// <summary><c>,"options":{"name":V}</c> for an option: a member to append to the top-level object when it has no usable <c>options</c>.</summary>
    public ReadOnlyMemory<byte> OptionsMember { get; }

    /// <summary>
    /// Whether <paramref name="field"/> names a field a rule may set: a top-level name other than
    /// <c>model</c> (routing reads it) and <c>options</c> (its entries are rules of their own), or
    /// <c>options.NAME</c>; each name a lower-case letter then lower-case letters, digits and
    /// underscores, as every key Ollama reads, at most <see cref="MaxNameLength"/> long.
    /// </summary>
    public static bool TryParseField(string field, out bool isOption, out string name, out string problem)
    {
        ArgumentNullException.ThrowIfNull(field);
        isOption = field.StartsWith(OptionsPrefix, StringComparison.Ordinal);
        name = isOption ? field[OptionsPrefix.Length..] : field;
        problem = "";
        if (name.Length == 0 || name.Length > MaxNameLength || !char.IsAsciiLetterLower(name[0]))
        {
            problem = $"invalid field name (expected a name such as keep_alive or options.temperature: a lower-case letter, then lower-case letters, digits or '_', at most {MaxNameLength})";
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '_')
            {
                problem = $"invalid field name (expected a name such as keep_alive or options.temperature: a lower-case letter, then lower-case letters, digits or '_', at most {MaxNameLength})";
                return false;
            }
        }

        if (!isOption && name is "model" or "options")
        {
            problem = name == "model"
                ? "the model is what requests are routed by: a rule cannot set it"
                : "give the entries of options one by one (options.NAME)";
            return false;
        }

        return true;
    }

    /// <summary>Whether <paramref name="json"/> is exactly one JSON value, white space around it allowed.</summary>
    public static bool IsOneJsonValue(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var bytes = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || !reader.TrySkip())
            {
                return false;
            }

            // A second value ("1 2") is an error to the reader; the end of the input is not.
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public override string ToString() => Action == RuleAction.Strip ? $"strip {Field}" : $"{Action} {Field} {Text}";
}
