using System.Text;
using Gollamas.Connections;
using Gollamas.Metrics;
using Gollamas.Routing;
using Gollamas.Security;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>GET <c>/metrics</c>: the counters in Prometheus' text exposition format.</summary>
internal sealed class MetricsEndpoint(ProxyMetrics metrics, ConnectionRegistry connections, ProxySnapshotHolder snapshots, KeyMetrics keyMetrics, ApiKeys apiKeys, ApiKeys adminKeys)
{
    public async Task HandleAsync(HttpContext context)
    {
        var text = new StringBuilder(4096);
        metrics.WriteTo(text, connections.Active);
        var routes = snapshots.Current.Routes;
        ProxyMetrics.WriteConnectionModels(text, ModelCounts(routes));
        ProxyMetrics.WriteRouteEstimates(text, Estimates(routes));
        if (apiKeys.IsEnabled || adminKeys.IsEnabled)
        {
            keyMetrics.WriteTo(text, apiKeys.Names.Concat(adminKeys.Names));
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        var body = Encoding.UTF8.GetBytes(text.ToString());
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>The route choice's counts and estimates of the table's models on their connections, by routed name.</summary>
    internal static List<RouteEstimate> Estimates(RouteTable table)
    {
        var rows = new List<RouteEstimate>();
        foreach (var route in table.Models)
        {
            foreach (var connection in route.Connections)
            {
                var activity = connection.Activity(route.Canonical);
                rows.Add(new RouteEstimate(route.Name, connection.Id, activity.Generations, activity.LastEstimateSeconds));
            }
        }

        return rows;
    }

    /// <summary>How many of the table's models each of its connections serves, configured and discovered.</summary>
    internal static List<ConnectionModelCount> ModelCounts(RouteTable table)
    {
        var counts = new List<ConnectionModelCount>(table.AllConnections.Count);
        foreach (var connection in table.AllConnections)
        {
            int configured = 0, discovered = 0;
            foreach (var route in table.Models)
            {
                if (route.IsServedBy(connection))
                {
                    if (route.IsDiscovered)
                    {
                        discovered++;
                    }
                    else
                    {
                        configured++;
                    }
                }
            }

            counts.Add(new ConnectionModelCount(connection.Id, configured, discovered));
        }

        return counts;
    }
}
