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

    /// <summary>Whether it is answered without an API key: Kubernetes probes carry none.</summary>
    public bool KeyExempt { get; init; }

    /// <summary>
    /// Whether it exists only while metrics are served on the proxy's own address (enabled, and no
    /// separate metrics address); otherwise its path is unknown.
    /// </summary>
    public bool OnlyWhenMetricsServed { get; init; }

    /// <summary>The path before the <c>{parameter}</c> of a pattern (the whole path of an exact one).</summary>
    public string Prefix { get; }

    /// <summary>Whether it answers <paramref name="method"/>.</summary>
    public bool Allows(string method) =>
        ((Methods & ApiMethods.Get) != 0 && HttpMethods.IsGet(method))
        || ((Methods & ApiMethods.Head) != 0 && HttpMethods.IsHead(method))
        || ((Methods & ApiMethods.Post) != 0 && HttpMethods.IsPost(method))
        || ((Methods & ApiMethods.Delete) != 0 && HttpMethods.IsDelete(method));

    /// <summary>Whether a pattern matches <paramref name="path"/> (an exact row is found by its key, not here).</summary>
    public bool MatchesPattern(string path) =>
        path.Length > Prefix.Length
        && path.StartsWith(Prefix, StringComparison.Ordinal)
        && (Match == PathMatch.Rest || (Match == PathMatch.Segment && path.IndexOf('/', Prefix.Length) < 0));

    /// <summary>The value of a pattern's <c>{parameter}</c> in a path it matched.</summary>
    public string ParameterOf(string path) => path[Prefix.Length..];

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
