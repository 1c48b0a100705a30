using System.Text.Json;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Json;
using Gollamas.Routing;
using Gollamas.Security;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// The model lists asked of every server and merged: <c>/api/tags</c>, <c>/api/ps</c>,
/// <c>/v1/models</c> and <c>/v1/models/{model}</c>.
/// </summary>
/// <remarks>A key limited to some models (--key-models) is shown only those.</remarks>
internal sealed class ListEndpoints(FanOut fanOut, KeyLimits keyLimits)
{
    /// <summary>GET/HEAD <c>/api/tags</c>: routed models (and aliases), most recently modified first.</summary>
    public Task TagsAsync(HttpContext context, RequestRecord record, ProxySnapshot snapshot) =>
        MergeAsync(context, snapshot.Routes, "/api/tags", ModelListMerger.SortByModifiedDescending, WriteOllamaList, KeyModels.Of(keyLimits, record), record.Id);

    /// <summary>
    /// GET <c>/api/ps</c>: running routed models (and aliases), by name; with running-model routing
    /// on, every model running on any connection.
    /// </summary>
    public Task PsAsync(HttpContext context, RequestRecord record, ProxySnapshot snapshot) =>
        MergeAsync(context, snapshot.Routes, "/api/ps", ModelListMerger.SortById, WriteOllamaList, KeyModels.Of(keyLimits, record), record.Id, includeRunning: true);

    /// <summary>GET <c>/v1/models</c>: the merged tags list in OpenAI's shape.</summary>
    public Task OpenAiModelsAsync(HttpContext context, RequestRecord record, ProxySnapshot snapshot) =>
        MergeAsync(context, snapshot.Routes, "/api/tags", ModelListMerger.SortByModifiedDescending, WriteOpenAiList, KeyModels.Of(keyLimits, record), record.Id);

    /// <summary>Asks every serving connection for <paramref name="path"/>, merges, sorts and writes the list.</summary>
    private async Task MergeAsync(
        HttpContext context, RouteTable table, string path, Action<List<ListedModel>> sort, Action<Utf8JsonWriter, List<ListedModel>> write, IReadOnlyList<string>? keyModels, string? requestId, bool includeRunning = false)
    {
        var running = includeRunning && table.AllowRunning;
        var results = await fanOut.GetAsync(running ? table.AllConnections : table.ServingConnections, path, context.RequestAborted, requestId);
        try
        {
            var models = ModelListMerger.Merge(results, table, includeUnrouted: running, keyModels);
            sort(models);
            await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, (write, models), static (writer, list) => list.write(writer, list.models));
        }
        finally
        {
            foreach (var result in results)
            {
                result.Document?.Dispose();
            }
        }
    }

    private static void WriteOllamaList(Utf8JsonWriter writer, List<ListedModel> models)
    {
        writer.WriteStartObject();
        writer.WriteStartArray(JsonNames.Models);
        foreach (var model in models)
        {
            model.WriteTo(writer);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteOpenAiList(Utf8JsonWriter writer, List<ListedModel> models)
    {
        writer.WriteStartObject();
        writer.WriteString(JsonNames.Object, "list");
        writer.WriteStartArray(JsonNames.Data);
        foreach (var model in models)
        {
            WriteOpenAiModel(writer, model.Id, model.ModifiedAt);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// GET <c>/v1/models/{model}</c>: as Ollama does it, from <c>/api/show</c> on the model's server;
    /// 404 for a model that is not routed.
    /// </summary>
    public async Task OpenAiModelAsync(HttpContext context, string requested, RequestRecord record, ProxySnapshot snapshot)
    {
        if (!snapshot.Routes.TryResolve(requested, out var match) || !KeyModels.Allows(KeyModels.Of(keyLimits, record), match.Route, snapshot.Routes))
        {
            // Ollama's wording in OpenAI's envelope, with the names it probably meant, as on the other 404s.
            await ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, ModelSuggestions.NotFoundMessage(snapshot.Routes, requested));
            return;
        }

        var connection = match.Route.Connections[0];
        if (!connection.TryAcquire())
        {
            // Retired by a newer snapshot since this request read its own: as a server that is gone.
            await ErrorWriter.WriteAsync(context, StatusCodes.Status502BadGateway, $"gollamas: Ollama server on {connection.PublicName} is no longer configured");
            return;
        }

        // /api/show answers in milliseconds; without a deadline a server that accepts and never
        // answers would hold this request open for as long as the client waits.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(fanOut.Timeout);
        try
        {
            await AnswerFromShowAsync(context, connection, match.Route.Name, requested, deadline.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            if (context.RequestAborted.IsCancellationRequested)
            {
                // The client left; nobody is there to answer.
                return;
            }

            if (context.Response.HasStarted)
            {
                throw;
            }

            var failure = UpstreamFailure.From(ex, ex is OperationCanceledException ? fanOut.TimeoutReason : null);
            await ErrorWriter.WriteAsync(context, failure.StatusCode, failure.MessageFor(connection.PublicName));
        }
        finally
        {
            connection.Release();
        }
    }

    private static async Task AnswerFromShowAsync(HttpContext context, Connection connection, string model, string requested, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, connection.CreateUri("/api/show", null))
        {
            Content = new ByteArrayContent(BuildShowBody(model)),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        using var response = await connection.Invoker.SendAsync(request, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var document = await TryParseAsync(body, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var message = document is not null
                && document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error"u8, out var error)
                && error.ValueKind == JsonValueKind.String
                    ? error.GetString()!
                    : $"gollamas: Ollama server on {connection.PublicName} answered {(int)response.StatusCode}";
            await ErrorWriter.WriteAsync(context, (int)response.StatusCode, message);
            return;
        }

        var modified = document?.RootElement.ValueKind == JsonValueKind.Object && ModelList.TryReadModifiedAt(document.RootElement, out var time)
            ? time
            : DateTimeOffset.UnixEpoch;
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, (requested, modified), static (writer, model) => WriteOpenAiModel(writer, model.requested, model.modified));
    }

    private static async Task<JsonDocument?> TryParseAsync(Stream body, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonDocument.ParseAsync(body, default, cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static byte[] BuildShowBody(string model)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            writer.WriteStartObject();
            writer.WriteString(JsonNames.Model, model);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteOpenAiModel(Utf8JsonWriter writer, string id, DateTimeOffset created)
    {
        writer.WriteStartObject();
        writer.WriteString(JsonNames.Id, id);
        writer.WriteString(JsonNames.Object, "model");
        writer.WriteNumber(JsonNames.Created, created == DateTimeOffset.MinValue ? 0 : created.ToUnixTimeSeconds());
        writer.WriteString(JsonNames.OwnedBy, ModelName.TryParse(id, out var parsed) ? parsed.Namespace : ModelName.DefaultNamespace);
        writer.WriteEndObject();
    }
}
