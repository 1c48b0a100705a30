using System.Text;
using Gollamas.Connections;
using Gollamas.Metrics;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>GET <c>/metrics</c>: the counters in Prometheus' text exposition format.</summary>
internal sealed class MetricsEndpoint(ProxyMetrics metrics, ConnectionRegistry connections)
{
    public async Task HandleAsync(HttpContext context)
    {
        var text = new StringBuilder(4096);
        metrics.WriteTo(text, connections.Active);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        var body = Encoding.UTF8.GetBytes(text.ToString());
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }
}
