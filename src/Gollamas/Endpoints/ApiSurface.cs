using Gollamas.Bodies;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// One endpoint of the APIs the proxy serves, described once: a row of <see cref="EndpointTable"/>.
/// Everything that differs between endpoints (methods, handler, error shape, where the answer
/// counts its tokens, how the body names its model, whether the model's settings apply) is read
/// from here, never decided again from the path.
/// </summary>
internal sealed class ApiSurface
{
    public ApiSurface(string path, ApiMethods methods, ErrorShape errorShape, EndpointHandler handler, PathMatch match = PathMatch.Exact)
    {
        Path = path;
        Methods = methods;
        ErrorShape = errorShape;
        Handler = handler;
        Match = match;
        Allow = AllowHeader(methods);
        Prefix = match == PathMatch.Exact ? path : path[..path.IndexOf('{', StringComparison.Ordinal)];
        Suffix = match == PathMatch.Exact ? "" : path[(path.IndexOf('}', StringComparison.Ordinal) + 1)..];
    }

    /// <summary>The path, or for a pattern the path with its <c>{parameter}</c> placeholder.</summary>
    public string Path { get; }

    /// <summary>Whether <see cref="Path"/> is matched exactly or as a pattern.</summary>
    public PathMatch Match { get; }

    /// <summary>The methods it answers.</summary>
    public ApiMethods Methods { get; }

    /// <summary>The <c>Allow</c> header of a 405: <see cref="Methods"/> as text.</summary>
    public string Allow { get; }

    /// <summary>What answers a request with an allowed method.</summary>
    public EndpointHandler Handler { get; }

    /// <summary>The shape of every error the proxy writes for a request to it.</summary>
    public ErrorShape ErrorShape { get; }

    /// <summary>Its label in the metrics: the path as written here, placeholders kept, so the set of labels is bounded.</summary>
    public string MetricLabel => Path;

    /// <summary>How the request body names the model (<see cref="BodyKind.None"/>: not addressed by a model).</summary>
    public BodyKind Body { get; init; }

    /// <summary>Which keys of the answer hold its token counts.</summary>
    public TokenCounts TokenCounts { get; init; }

    /// <summary>Where its body says which conversation it continues (for the route choice's affinity); None: nowhere.</summary>
    public ConversationShape Conversation { get; init; }

    /// <summary>
    /// Whether the deprecated <c>name</c> key stands in for an absent or empty <c>model</c>, as
    /// Ollama reads it on show and pull.
    /// </summary>
    public bool NameStandsForModel { get; init; }

    /// <summary>Whether a request loads the model on its server (generation, embeddings), which show and pull do not.</summary>
    public bool LoadsModel { get; init; }

    /// <summary>
    /// Whether the model's keep_alive and num_ctx settings are written into the body: on the native
    /// endpoints that load it. Ollama's compat layers read no keep_alive or options.
    /// </summary>
    public bool AppliesLifecycle { get; init; }

    /// <summary>Which key it asks for.</summary>
    public EndpointAccess Access { get; init; }

    /// <summary>
    /// The groups it belongs to: an address serves it when it serves one of them (see
    /// <see cref="EndpointGroups"/>); elsewhere its path is unknown.
    /// </summary>
    public EndpointGroups Groups { get; init; } = EndpointGroups.Api;

    /// <summary>The path before the <c>{parameter}</c> of a pattern (the whole path of an exact one).</summary>
    public string Prefix { get; }

    /// <summary>The path after the <c>{parameter}</c> of a segment pattern (<c>/drain</c>); empty for others.</summary>
    public string Suffix { get; }

    /// <summary>Whether it answers <paramref name="method"/>.</summary>
    public bool Allows(string method) =>
        ((Methods & ApiMethods.Get) != 0 && HttpMethods.IsGet(method))
        || ((Methods & ApiMethods.Head) != 0 && HttpMethods.IsHead(method))
        || ((Methods & ApiMethods.Post) != 0 && HttpMethods.IsPost(method))
        || ((Methods & ApiMethods.Delete) != 0 && HttpMethods.IsDelete(method));

    /// <summary>Whether a pattern matches <paramref name="path"/> (an exact row is found by its key, not here).</summary>
    public bool MatchesPattern(string path) =>
        path.Length > Prefix.Length + Suffix.Length
        && path.StartsWith(Prefix, StringComparison.Ordinal)
        && path.EndsWith(Suffix, StringComparison.Ordinal)
        && (Match == PathMatch.Rest || (Match == PathMatch.Segment && path.IndexOf('/', Prefix.Length) is var slash && (Suffix.Length == 0 ? slash < 0 : slash == path.Length - Suffix.Length)));

    /// <summary>The value of a pattern's <c>{parameter}</c> in a path it matched.</summary>
    public string ParameterOf(string path) => path[Prefix.Length..^Suffix.Length];

    private static string AllowHeader(ApiMethods methods)
    {
        var names = new List<string>(4);
        if ((methods & ApiMethods.Get) != 0)
        {
            names.Add(HttpMethods.Get);
        }

        if ((methods & ApiMethods.Head) != 0)
        {
            names.Add(HttpMethods.Head);
        }

        if ((methods & ApiMethods.Post) != 0)
        {
            names.Add(HttpMethods.Post);
        }

        if ((methods & ApiMethods.Delete) != 0)
        {
            names.Add(HttpMethods.Delete);
        }

        return string.Join(", ", names);
    }
}
