namespace Gollamas.Routing;

// Placeholder with the agreed API; replaced by the full implementation on merge.
internal readonly record struct ModelName(string Host, string Namespace, string Model, string Tag)
{
    public const string DefaultHost = "registry.ollama.ai";
    public const string DefaultNamespace = "library";
    public const string DefaultTag = "latest";

    public static bool TryParse(ReadOnlySpan<char> text, out ModelName name)
    {
        var s = text.Trim().ToString();
        var tag = DefaultTag;
        var colon = s.LastIndexOf(':');
        if (colon > s.LastIndexOf('/'))
        {
            tag = s[(colon + 1)..];
            s = s[..colon];
        }

        var parts = s.Split('/');
        name = parts.Length switch
        {
            1 => new ModelName(DefaultHost, DefaultNamespace, parts[0], tag),
            2 => new ModelName(DefaultHost, parts[0], parts[1], tag),
            _ => new ModelName(parts[0], parts[1], parts[2], tag),
        };
        return name.Model.Length > 0 && tag.Length > 0;
    }

    public string Canonical => $"{Host}/{Namespace}/{Model}:{Tag}";

    public string DisplayShortest => $"{Model}:{Tag}";

    public IReadOnlyList<string> Spellings() => [Canonical, DisplayShortest, Model];
}
