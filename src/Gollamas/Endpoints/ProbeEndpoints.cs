using Gollamas.Connections;
using Gollamas.Forwarding;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// Kubernetes probes, answered by the proxy itself and never forwarded: /healthz (the process
/// serves requests) and /readyz (it is not draining and at least one Ollama server has answered
/// and is not marked down). Every server is probed at start-up, so /readyz turns ready as soon as
/// the first one answers, and stays unready ("starting") until then: a pod is not sent traffic
/// before the proxy knows it can serve some.
/// </summary>
internal sealed class ProbeEndpoints(ProxyLifecycle lifecycle, ConnectionRegistry connections)
{
    private static readonly byte[] s_ok = """{"status":"ok"}"""u8.ToArray();
    private static readonly byte[] s_draining = """{"status":"draining"}"""u8.ToArray();
    private static readonly byte[] s_noServer = """{"status":"no Ollama server is up"}"""u8.ToArray();
    private static readonly byte[] s_starting = """{"status":"starting: no Ollama server has answered yet"}"""u8.ToArray();

    public static Task HealthzAsync(HttpContext context) => WriteAsync(context, StatusCodes.Status200OK, s_ok);

    public Task ReadyzAsync(HttpContext context)
    {
        if (lifecycle.IsDraining)
        {
            return WriteAsync(context, StatusCodes.Status503ServiceUnavailable, s_draining);
        }

        var starting = false;
        foreach (var connection in connections.Active)
        {
            if (connection.Health.IsServing)
            {
                return WriteAsync(context, StatusCodes.Status200OK, s_ok);
            }

            starting |= !connection.Health.IsChecked;
        }

        return WriteAsync(context, StatusCodes.Status503ServiceUnavailable, starting ? s_starting : s_noServer);
    }

    private static async Task WriteAsync(HttpContext context, int status, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = Json.JsonWriting.JsonContentType;
        response.ContentLength = body.Length;
        response.Headers.CacheControl = "no-store";
        await response.BodyWriter.WriteAsync(body, context.RequestAborted);
    }
}
