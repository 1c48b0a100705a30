using System.Text.Json;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Json;
using Gollamas.Routing;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// GET <c>/api/status</c>: whether Ollama's cloud features are disabled, asked of every server
/// and merged so that cloud reads as disabled when any server that answered says so. A client
/// asks before it uses a cloud model or web search, and either may go to any of the servers:
/// "enabled" would be a promise one of them does not keep. The source is the first disabled
/// server's (<c>env</c>, <c>config</c> or <c>both</c>, as Ollama names it), else <c>none</c>.
/// </summary>
internal sealed class CloudStatusEndpoint(FanOut fanOut)
{
    public async Task HandleAsync(HttpContext context, RequestRecord record, ProxySnapshot snapshot)
    {
        var results = await fanOut.GetAsync(snapshot.Routes.AllConnections, "/api/status", context.RequestAborted, record.Id);
        CloudStatus? merged = null;
        foreach (var result in results)
        {
            using var document = result.Document;
            if (TryRead(document, out var status) && (merged is null || (status.Disabled && !merged.Disabled)))
            {
                merged = status;
            }
        }

        if (merged is null)
        {
            // Servers from before /api/status answer 404, read as no answer.
            await ErrorWriter.WriteAsync(context, StatusCodes.Status502BadGateway, "gollamas: no Ollama server answered /api/status");
            return;
        }

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, merged.Disabled ? merged : CloudStatus.Enabled, static (writer, status) =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("cloud"u8);
            writer.WriteBoolean("disabled"u8, status.Disabled);
            writer.WriteString("source"u8, status.Source);
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    // {"cloud":{"disabled":BOOL,"source":"..."}}, as Ollama's StatusHandler writes it.
    private static bool TryRead(JsonDocument? document, out CloudStatus status)
    {
        status = CloudStatus.Enabled;
        if (document?.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("cloud"u8, out var cloud)
            || cloud.ValueKind != JsonValueKind.Object
            || !cloud.TryGetProperty("disabled"u8, out var disabled)
            || disabled.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return false;
        }

        if (disabled.ValueKind == JsonValueKind.True)
        {
            var source = cloud.TryGetProperty("source"u8, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "none";
            status = new CloudStatus(true, source);
        }

        return true;
    }

    // A class: the response writer's state, and no generic instantiation over a struct.
    private sealed record CloudStatus(bool Disabled, string Source)
    {
        public static readonly CloudStatus Enabled = new(false, "none");
    }
}
