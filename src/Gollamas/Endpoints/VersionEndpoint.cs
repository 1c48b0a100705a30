using System.Text.Json;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Json;
using Gollamas.Routing;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// GET/HEAD <c>/api/version</c>: the lowest version among the servers that answered, so a client
/// never uses a feature one of the servers behind the proxy lacks.
/// </summary>
internal sealed class VersionEndpoint(FanOut fanOut)
{
    public async Task HandleAsync(HttpContext context, RequestRecord record, ProxySnapshot snapshot)
    {
        var results = await fanOut.GetAsync(snapshot.Routes.ServingConnections, "/api/version", context.RequestAborted, record.Id);
        OllamaVersion? lowest = null;
        foreach (var result in results)
        {
            using var document = result.Document;
            if (document?.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("version"u8, out var value)
                && value.ValueKind == JsonValueKind.String
                && OllamaVersion.TryParse(value.GetString(), out var version)
                && (lowest is null || version < lowest.Value))
            {
                lowest = version;
            }
        }

        if (lowest is null)
        {
            await ErrorWriter.WriteAsync(context, StatusCodes.Status502BadGateway, "gollamas: no Ollama server answered /api/version");
            return;
        }

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, lowest.Value.Text, static (writer, version) =>
        {
            writer.WriteStartObject();
            writer.WriteString(JsonNames.Version, version);
            writer.WriteEndObject();
        });
    }
}
