using Gollamas.Bodies;
using System.Collections.Frozen;
using System.Collections.Immutable;
using Gollamas.Diagnostics;
using Gollamas.Errors;

namespace Gollamas.Endpoints;

/// <summary>
/// Every endpoint the proxy serves, one row each, as Ollama's server declares its routes
/// (server/routes.go, GenerateRoutes): the only place that says which API a path belongs to.
/// Serving another of Ollama's compatible APIs is one more row. Exact paths are found with one
/// probe of a frozen dictionary, the two patterns after them; neither allocates.
/// </summary>
internal static class EndpointTable
{
    // Field initialisers run in the order written: the handlers and the metrics row come before the rows that use them.
    private static readonly EndpointHandler s_model = static (endpoints, context, surface, record, snapshot) => endpoints.Models.HandleAsync(context, surface, record, snapshot);

    private static readonly EndpointHandler s_oneServer = static (endpoints, context, _, record, snapshot) => endpoints.OneServer.HandleAsync(context, record, snapshot);

    private static readonly EndpointHandler s_signOut = static (_, context, _, _, _) => UnsupportedEndpoints.RefuseAsync(
        context, "signing a server out of ollama.com", "each Ollama server behind it is signed in for every client that uses it");

    /// <summary>
    /// GET <c>/metrics</c>, also the one endpoint of the separate metrics address (where it needs
    /// no key and is the label of every request).
    /// </summary>
    public static readonly ApiSurface Metrics = new("/metrics", ApiMethods.Get, ErrorShape.Ollama, static (endpoints, context, _, _, _) => endpoints.Metrics.HandleAsync(context))
    {
        Groups = EndpointGroups.Metrics,
    };

    /// <summary>The rows, in the order of Ollama's route list where it has them.</summary>
    public static readonly ImmutableArray<ApiSurface> Rows =
    [
        // The proxy's own: liveness as Ollama answers it, Kubernetes probes, metrics.
        new("/", ApiMethods.Get | ApiMethods.Head, ErrorShape.Ollama, static (_, context, _, _, _) => RootEndpoint.HandleAsync(context)),
        new("/healthz", ApiMethods.Get | ApiMethods.Head, ErrorShape.Ollama, static (_, context, _, _, _) => ProbeEndpoints.HealthzAsync(context)) { Access = EndpointAccess.Open },
        new("/readyz", ApiMethods.Get | ApiMethods.Head, ErrorShape.Ollama, static (endpoints, context, _, _, _) => endpoints.Probes.ReadyzAsync(context)) { Access = EndpointAccess.Open },
        Metrics,

        // The proxy's control plane (Endpoints/README: the status JSON): what it sees, and the operator's actions.
        new("/gollamas/status", ApiMethods.Get, ErrorShape.Ollama, static (endpoints, context, _, record, snapshot) => endpoints.FleetStatus.HandleAsync(context, record, snapshot))
        {
            Access = EndpointAccess.StatusReader,
            Groups = EndpointGroups.Api | EndpointGroups.Admin,
        },
        new("/gollamas/reload", ApiMethods.Post, ErrorShape.Ollama, static (endpoints, context, _, record, _) => endpoints.Admin.ReloadAsync(context, record)) { Access = EndpointAccess.Admin, Groups = EndpointGroups.Admin },
        new("/gollamas/connections/{id}/drain", ApiMethods.Post, ErrorShape.Ollama, static (endpoints, context, surface, record, snapshot) => endpoints.Admin.DrainAsync(context, surface, record, snapshot), PathMatch.Segment) { Access = EndpointAccess.Admin, Groups = EndpointGroups.Admin },
        new("/gollamas/connections/{id}/resume", ApiMethods.Post, ErrorShape.Ollama, static (endpoints, context, surface, record, snapshot) => endpoints.Admin.ResumeAsync(context, surface, record, snapshot), PathMatch.Segment) { Access = EndpointAccess.Admin, Groups = EndpointGroups.Admin },
        new("/gollamas/connections/{id}/probe", ApiMethods.Post, ErrorShape.Ollama, static (endpoints, context, surface, record, snapshot) => endpoints.Admin.ProbeAsync(context, surface, record, snapshot), PathMatch.Segment) { Access = EndpointAccess.Admin, Groups = EndpointGroups.Admin },

        // The dashboard: a page without data (it reads the status with its user's key), so open;
        // served where the status is.
        new("/gollamas/", ApiMethods.Get | ApiMethods.Head, ErrorShape.Ollama, static (_, context, _, _, _) => DashboardEndpoint.HandleAsync(context))
        {
            Access = EndpointAccess.Open,
            Groups = EndpointGroups.Api | EndpointGroups.Admin,
        },
        new("/gollamas", ApiMethods.Get | ApiMethods.Head, ErrorShape.Ollama, static (_, context, _, _, _) => DashboardEndpoint.HandleAsync(context))
        {
            Access = EndpointAccess.Open,
            Groups = EndpointGroups.Api | EndpointGroups.Admin,
        },

        // Ollama's native API: answered from every server.
        new("/api/version", ApiMethods.Get | ApiMethods.Head, ErrorShape.Ollama, static (endpoints, context, _, record, snapshot) => endpoints.Version.HandleAsync(context, record, snapshot)),
        new("/api/tags", ApiMethods.Get | ApiMethods.Head, ErrorShape.Ollama, static (endpoints, context, _, record, snapshot) => endpoints.Lists.TagsAsync(context, record, snapshot)),
        new("/api/ps", ApiMethods.Get, ErrorShape.Ollama, static (endpoints, context, _, record, snapshot) => endpoints.Lists.PsAsync(context, record, snapshot)),

        // Whether Ollama's cloud features are off: off through the proxy when off on any server (a cloud model or a search may go to any).
        new("/api/status", ApiMethods.Get, ErrorShape.Ollama, static (endpoints, context, _, record, snapshot) => endpoints.CloudStatus.HandleAsync(context, record, snapshot)),

        // Ollama's native API: no model's, answered by one server for all (the first that is up, in
        // declaration order): who it is signed in to ollama.com as, and what it does there with
        // that sign-in. Reading the account is harmless, and `ollama run` asks it before a cloud model.
        new("/api/me", ApiMethods.Post, ErrorShape.Ollama, s_oneServer),
        new("/api/experimental/web_search", ApiMethods.Post, ErrorShape.Ollama, s_oneServer),
        new("/api/experimental/web_fetch", ApiMethods.Post, ErrorShape.Ollama, s_oneServer),
        new("/api/experimental/model-recommendations", ApiMethods.Get, ErrorShape.Ollama, s_oneServer),

        // Ollama's native API: signing a server out of ollama.com, refused: the server's sign-in is
        // every client's, and a router cannot know which server is meant.
        new("/api/signout", ApiMethods.Post, ErrorShape.Ollama, s_signOut),
        new("/api/user/keys/{encodedKey}", ApiMethods.Delete, ErrorShape.Ollama, s_signOut, PathMatch.Segment),

        // Ollama's native API: addressed by a model, which is loaded and takes its settings.
        new("/api/generate", ApiMethods.Post, ErrorShape.Ollama, s_model) { Body = BodyKind.Json, LoadsModel = true, AppliesLifecycle = true, TokenCounts = TokenCounts.Ollama, Conversation = ConversationShape.OllamaGenerate },
        new("/api/chat", ApiMethods.Post, ErrorShape.Ollama, s_model) { Body = BodyKind.Json, LoadsModel = true, AppliesLifecycle = true, TokenCounts = TokenCounts.Ollama, Conversation = ConversationShape.OllamaChat },
        new("/api/embed", ApiMethods.Post, ErrorShape.Ollama, s_model) { Body = BodyKind.Json, LoadsModel = true, AppliesLifecycle = true, TokenCounts = TokenCounts.Ollama },
        new("/api/embeddings", ApiMethods.Post, ErrorShape.Ollama, s_model) { Body = BodyKind.Json, LoadsModel = true, AppliesLifecycle = true, TokenCounts = TokenCounts.Ollama },

        // Ollama's native API: addressed by a model that is not loaded; "name" may stand in for "model".
        new("/api/show", ApiMethods.Post, ErrorShape.Ollama, s_model) { Body = BodyKind.Json, NameStandsForModel = true },
        new("/api/pull", ApiMethods.Post, ErrorShape.Ollama, s_model) { Body = BodyKind.Json, NameStandsForModel = true },

        // Ollama's native API: changes to one server's model store, refused (a router cannot know which server is meant).
        new("/api/create", ApiMethods.Post, ErrorShape.Ollama, static (_, context, _, _, _) => UnsupportedEndpoints.RefuseAsync(context, "creating models")),
        new("/api/push", ApiMethods.Post, ErrorShape.Ollama, static (_, context, _, _, _) => UnsupportedEndpoints.RefuseAsync(context, "pushing models")),
        new("/api/copy", ApiMethods.Post, ErrorShape.Ollama, static (_, context, _, _, _) => UnsupportedEndpoints.RefuseAsync(context, "copying models")),
        new("/api/delete", ApiMethods.Delete, ErrorShape.Ollama, static (_, context, _, _, _) => UnsupportedEndpoints.RefuseAsync(context, "deleting models")),
        new("/api/blobs/{digest}", ApiMethods.Head | ApiMethods.Post, ErrorShape.Ollama, static (_, context, _, _, _) => UnsupportedEndpoints.RefuseAsync(context, "blobs"), PathMatch.Rest),

        // OpenAI's API as Ollama's compat layer serves it: the model is loaded, but no keep_alive or options reach it.
        new("/v1/chat/completions", ApiMethods.Post, ErrorShape.OpenAi, s_model) { Body = BodyKind.Json, LoadsModel = true, TokenCounts = TokenCounts.OpenAi, Conversation = ConversationShape.OpenAiChat },
        new("/v1/completions", ApiMethods.Post, ErrorShape.OpenAi, s_model) { Body = BodyKind.Json, LoadsModel = true, TokenCounts = TokenCounts.OpenAi },
        new("/v1/embeddings", ApiMethods.Post, ErrorShape.OpenAi, s_model) { Body = BodyKind.Json, LoadsModel = true, TokenCounts = TokenCounts.OpenAi },
        new("/v1/models", ApiMethods.Get, ErrorShape.OpenAi, static (endpoints, context, _, record, snapshot) => endpoints.Lists.OpenAiModelsAsync(context, record, snapshot)),
        new("/v1/models/{model}", ApiMethods.Get, ErrorShape.OpenAi, static (endpoints, context, surface, record, snapshot) => endpoints.Lists.OpenAiModelAsync(context, surface.ParameterOf(context.Request.Path.Value!), record, snapshot), PathMatch.Segment),
        new("/v1/responses", ApiMethods.Post, ErrorShape.OpenAiResponses, s_model) { Body = BodyKind.JsonOrZstd, LoadsModel = true, TokenCounts = TokenCounts.InputOutput, Conversation = ConversationShape.OpenAiResponses },
        new("/v1/audio/transcriptions", ApiMethods.Post, ErrorShape.OpenAi, s_model) { Body = BodyKind.Form, LoadsModel = true, TokenCounts = TokenCounts.OpenAi },

        // Anthropic's Messages API as Ollama's compat layer serves it.
        new("/v1/messages", ApiMethods.Post, ErrorShape.Anthropic, s_model) { Body = BodyKind.Json, LoadsModel = true, TokenCounts = TokenCounts.InputOutput, Conversation = ConversationShape.AnthropicMessages },
    ];

    private static readonly FrozenDictionary<string, ApiSurface> s_exact = Rows
        .Where(static row => row.Match == PathMatch.Exact)
        .ToFrozenDictionary(static row => row.Path, StringComparer.Ordinal);

    private static readonly ApiSurface[] s_patterns = [.. Rows.Where(static row => row.Match != PathMatch.Exact)];

    /// <summary>The row of <paramref name="path"/>, or null: no endpoint.</summary>
    public static ApiSurface? Find(string path)
    {
        if (s_exact.TryGetValue(path, out var surface))
        {
            return surface;
        }

        foreach (var pattern in s_patterns)
        {
            if (pattern.MatchesPattern(path))
            {
                return pattern;
            }
        }

        return null;
    }

    /// <summary>
    /// The error shape of a path of no row: still its API's by the prefix, so a client of
    /// <c>/v1</c> that asks for a path Ollama does not have reads the 404 in OpenAI's shape.
    /// </summary>
    public static ErrorShape ErrorShapeOfUnknown(string path) =>
        path.StartsWith("/v1/", StringComparison.Ordinal) || path == "/v1" ? ErrorShape.OpenAi : ErrorShape.Ollama;
}
