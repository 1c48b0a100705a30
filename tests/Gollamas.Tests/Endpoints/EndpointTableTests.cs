using Gollamas.Diagnostics;
using Gollamas.Endpoints;
using Gollamas.Errors;

namespace Gollamas.Tests.Endpoints;

/// <summary>
/// The table of API surfaces on its own: every row complete, each path once, every route of
/// Ollama's that the proxy serves present with Ollama's methods, and the lookup by path.
/// </summary>
public sealed class EndpointTableTests
{
    /// <summary>
    /// Every route of Ollama's, transcribed from server/routes.go (GenerateRoutes) of v0.33.0-rc2,
    /// with gin's <c>:parameter</c> written <c>{parameter}</c>: each one has a row that routes it,
    /// answers it for the fleet, or refuses it with the reason.
    /// </summary>
    private static readonly (string Method, string Path)[] s_ollamaRoutes =
    [
        ("HEAD", "/"), ("GET", "/"),
        ("HEAD", "/api/version"), ("GET", "/api/version"),
        ("GET", "/api/status"),
        ("POST", "/api/pull"),
        ("POST", "/api/push"),
        ("HEAD", "/api/tags"), ("GET", "/api/tags"),
        ("POST", "/api/show"),
        ("DELETE", "/api/delete"),
        ("POST", "/api/me"),
        ("POST", "/api/signout"),
        ("DELETE", "/api/user/keys/{encodedKey}"),
        ("POST", "/api/create"),
        ("POST", "/api/blobs/{digest}"), ("HEAD", "/api/blobs/{digest}"),
        ("POST", "/api/copy"),
        ("POST", "/api/experimental/web_search"),
        ("POST", "/api/experimental/web_fetch"),
        ("GET", "/api/experimental/model-recommendations"),
        ("GET", "/api/ps"),
        ("POST", "/api/generate"),
        ("POST", "/api/chat"),
        ("POST", "/api/embed"),
        ("POST", "/api/embeddings"),
        ("POST", "/v1/chat/completions"),
        ("POST", "/v1/completions"),
        ("POST", "/v1/embeddings"),
        ("GET", "/v1/models"),
        ("GET", "/v1/models/{model}"),
        ("POST", "/v1/responses"),
        ("POST", "/v1/audio/transcriptions"),
        ("POST", "/v1/messages"),
    ];

    // The proxy's own endpoints, which Ollama does not have.
    private static readonly string[] s_ownPaths =
    [
        "/healthz", "/readyz", "/metrics", "/gollamas/", "/gollamas",
        "/gollamas/status", "/gollamas/reload", "/gollamas/connections/{id}/drain", "/gollamas/connections/{id}/resume", "/gollamas/connections/{id}/probe",
    ];

    public static TheoryData<string> OllamaPaths() => [.. s_ollamaRoutes.Select(static r => r.Path).Distinct()];

    [Fact]
    public void EveryRow_HasALabelMethodsAnAllowHeaderAShapeAndAHandler()
    {
        foreach (var row in EndpointTable.Rows)
        {
            row.MetricLabel.Should().StartWith("/", row.Path);
            row.Methods.Should().NotBe(ApiMethods.None, row.Path);
            row.Allow.Should().NotBeEmpty(row.Path);
            Enum.IsDefined(row.ErrorShape).Should().BeTrue(row.Path);
            row.Handler.Should().NotBeNull(row.Path);
        }
    }

    [Fact]
    public void NoTwoRows_ShareAPathOrALabel()
    {
        EndpointTable.Rows.Select(static r => r.Path).Should().OnlyHaveUniqueItems();
        EndpointTable.Rows.Select(static r => r.MetricLabel).Should().OnlyHaveUniqueItems();
    }

    [Theory]
    [MemberData(nameof(OllamaPaths))]
    public void OllamaRoute_HasARowAnsweringExactlyOllamasMethods(string path)
    {
        var row = EndpointTable.Rows.SingleOrDefault(r => r.Path == path);

        row.Should().NotBeNull($"Ollama serves {path}");
        var expected = s_ollamaRoutes.Where(r => r.Path == path).Select(static r => r.Method).ToHashSet();
        foreach (var method in new[] { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" })
        {
            row!.Allows(method).Should().Be(expected.Contains(method), $"{method} {path}");
        }
    }

    [Fact]
    public void EveryRow_IsAnOllamaRouteOrOneOfTheProxysOwn()
    {
        var known = s_ollamaRoutes.Select(static r => r.Path).Concat(s_ownPaths).ToHashSet(StringComparer.Ordinal);

        EndpointTable.Rows.Select(static r => r.Path).Should().OnlyContain(p => known.Contains(p));
    }

    [Fact]
    public void PatternRows_AreThePathsWithAPlaceholder()
    {
        foreach (var row in EndpointTable.Rows)
        {
            (row.Match != PathMatch.Exact).Should().Be(row.Path.Contains('{', StringComparison.Ordinal), row.Path);
        }
    }

    [Fact]
    public void ErrorShape_OllamasOnNativePathsAnotherApisUnderV1()
    {
        foreach (var row in EndpointTable.Rows)
        {
            (row.ErrorShape == ErrorShape.Ollama).Should().Be(!row.Path.StartsWith("/v1/", StringComparison.Ordinal), row.Path);
        }

        EndpointTable.Find("/v1/messages")!.ErrorShape.Should().Be(ErrorShape.Anthropic);
        EndpointTable.Find("/v1/responses")!.ErrorShape.Should().Be(ErrorShape.OpenAiResponses);
    }

    [Fact]
    public void ModelAddressedRows_ArePostsWhoseSettingsAreConsistent()
    {
        foreach (var row in EndpointTable.Rows)
        {
            if (row.Body == BodyKind.None)
            {
                // Not addressed by a model: nothing of the model's applies.
                (row.LoadsModel || row.AppliesLifecycle || row.NameStandsForModel || row.TokenCounts != TokenCounts.None).Should().BeFalse(row.Path);
                continue;
            }

            row.Methods.Should().Be(ApiMethods.Post, row.Path);
            if (row.AppliesLifecycle)
            {
                row.LoadsModel.Should().BeTrue($"{row.Path}: settings apply only where the model is loaded");
                row.Body.Should().NotBe(BodyKind.Form, $"{row.Path}: settings are written into a JSON body");
            }

            if (row.NameStandsForModel)
            {
                row.LoadsModel.Should().BeFalse($"{row.Path}: Ollama reads name for model only on show and pull");
            }

            (row.TokenCounts != TokenCounts.None).Should().Be(row.LoadsModel, $"{row.Path}: an answer counts tokens where a model generated it");
        }
    }

    [Theory]
    [InlineData("/api/chat", "/api/chat")]
    [InlineData("/v1/models", "/v1/models")]
    [InlineData("/api/blobs/sha256:abc", "/api/blobs/{digest}")]
    [InlineData("/api/blobs/a/b", "/api/blobs/{digest}")]
    [InlineData("/v1/models/llama3.2:latest", "/v1/models/{model}")]
    [InlineData("/api/user/keys/c3NoLWVk", "/api/user/keys/{encodedKey}")]
    [InlineData("/api/user/keys/a/b", null)]
    [InlineData("/api/experimental/web_search", "/api/experimental/web_search")]
    [InlineData("/api/blobs/", null)]
    [InlineData("/v1/models/", null)]
    [InlineData("/v1/models/mattw/x", null)]
    [InlineData("/api/tags/extra", null)]
    [InlineData("/API/tags", null)]
    [InlineData("/api/chat/", null)]
    [InlineData("/v1", null)]
    public void Find_ExactPathsThenPatterns(string path, string? row)
    {
        EndpointTable.Find(path)?.Path.Should().Be(row);
        (EndpointTable.Find(path) is null).Should().Be(row is null);
    }

    [Fact]
    public void Find_EveryRowByAPathItMatches()
    {
        foreach (var row in EndpointTable.Rows)
        {
            var path = row.Match == PathMatch.Exact ? row.Path : row.Prefix + "x" + row.Suffix;

            EndpointTable.Find(path).Should().BeSameAs(row);
        }
    }

    [Theory]
    [InlineData("/gollamas/connections/gpu1/drain", "gpu1")]
    [InlineData("/gollamas/connections/gpu1:11434/probe", "gpu1:11434")]
    [InlineData("/gollamas/connections//drain", null)]
    [InlineData("/gollamas/connections/a/b/drain", null)]
    [InlineData("/gollamas/connections/gpu1/drainx", null)]
    [InlineData("/gollamas/connections/gpu1", null)]
    public void ConnectionPatterns_ParameterIsTheSegmentBetweenPrefixAndSuffix(string path, string? id)
    {
        var row = EndpointTable.Find(path);

        row?.ParameterOf(path).Should().Be(id);
        (row is null).Should().Be(id is null);
    }

    [Theory]
    [InlineData("/v1/models/llama3.2", "llama3.2")]
    [InlineData("/v1/models/hf.co/x", null)]
    public void ModelsPattern_ParameterIsTheSegmentAfterThePrefix(string path, string? model)
    {
        var row = EndpointTable.Find(path);

        row?.ParameterOf(path).Should().Be(model);
        (row is null).Should().Be(model is null);
    }

    [Theory]
    [InlineData("/v1", "OpenAi")]
    [InlineData("/v1/nope", "OpenAi")]
    [InlineData("/v1/messages/count_tokens", "OpenAi")]
    [InlineData("/v10/x", "Ollama")]
    [InlineData("/api/nope", "Ollama")]
    [InlineData("/", "Ollama")]
    public void UnknownPath_ErrorShapeByItsApisPrefix(string path, string shape)
    {
        EndpointTable.ErrorShapeOfUnknown(path).ToString().Should().Be(shape);
    }

    [Theory]
    [InlineData("/", "GET, HEAD")]
    [InlineData("/api/ps", "GET")]
    [InlineData("/api/chat", "POST")]
    [InlineData("/api/delete", "DELETE")]
    [InlineData("/api/blobs/{digest}", "HEAD, POST")]
    public void Allow_TheMethodsInTheOrderGetHeadPostDelete(string path, string allow)
    {
        EndpointTable.Rows.Single(r => r.Path == path).Allow.Should().Be(allow);
    }
}
