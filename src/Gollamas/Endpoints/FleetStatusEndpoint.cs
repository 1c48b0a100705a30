using System.Text.Json;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Json;
using Gollamas.Routing;
using Gollamas.Security;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// GET <c>/gollamas/status</c>: what the proxy sees of its fleet, as one JSON document written
/// by hand (no reflection). Its shape is documented in src/Gollamas/README.md ("The status
/// document"); a dashboard reads it, so a name here, once published, stays.
/// </summary>
/// <remarks>
/// The connections' URLs (without user or password) are shown to a reader with an admin key, and
/// when no key of any kind is configured (the operator chose an open proxy); a reader with an API
/// key gets <c>"url": null</c>: internal addresses are not a client's business. An API key
/// limited to some models (<c>--key-models</c>) sees only those, as in the lists: the other
/// models, their aliases, loaded copies and the model of a request waiting in line are left out
/// (the waiting request keeps its place, with <c>"model": null</c>).
/// </remarks>
internal sealed class FleetStatusEndpoint(ApiKeys apiKeys, ApiKeys adminKeys, KeyLimits keyLimits, TimeProvider time, DateTimeOffset startedAt)
{
    public Task HandleAsync(HttpContext context, RequestRecord record, ProxySnapshot snapshot)
    {
        var showUrls = record.KeyIsAdmin || (!apiKeys.IsEnabled && !adminKeys.IsEnabled);
        var visible = record.KeyIsAdmin ? null : VisibleRoutes(KeyModels.Of(keyLimits, record), snapshot.Routes);
        context.Response.Headers.CacheControl = "no-store";
        var state = new Status(snapshot, showUrls, visible, time.GetUtcNow(), startedAt, RecentRates.Now());
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, state, static (writer, status) => status.Write(writer));
    }

    /// <summary>
    /// The state word of a connection: <c>draining</c> (an operator drained it), <c>down</c>
    /// (marked down), <c>up</c> (it has answered), or <c>unknown</c> (not answered yet: not probed,
    /// or only failures, fewer than mark it down; requests still try it).
    /// </summary>
    public static string StateOf(Connection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var health = connection.Health;
        return health.IsDraining ? "draining" : health.IsDown ? "down" : health.IsServing ? "up" : "unknown";
    }

    /// <summary>Writes the last minute's rates as the object named <paramref name="name"/>.</summary>
    public static void WriteRates(Utf8JsonWriter writer, string name, RateTotals totals)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(totals);
        writer.WriteStartObject(name);
        writer.WriteNumber("requests", totals.Requests);
        writer.WriteNumber("errors", totals.Errors);
        writer.WriteNumber("requests_per_second", Math.Round(totals.RequestsPerSecond, 4));
        writer.WriteNumber("errors_per_second", Math.Round(totals.ErrorsPerSecond, 4));
        if (totals.MeanFirstByteMilliseconds is { } ttfb)
        {
            writer.WriteNumber("ttfb_ms_mean", Math.Round(ttfb, 3));
        }
        else
        {
            writer.WriteNull("ttfb_ms_mean");
        }

        writer.WriteNumber("generated_tokens_per_second", Math.Round(totals.GeneratedTokensPerSecond, 4));
        writer.WriteEndObject();
    }

    // The routes a key limited to some models may see; null: every route.
    private static HashSet<ModelRoute>? VisibleRoutes(IReadOnlyList<string>? keyModels, RouteTable table)
    {
        if (keyModels is null)
        {
            return null;
        }

        var visible = new HashSet<ModelRoute>();
        foreach (var route in table.Models)
        {
            if (KeyModels.Allows(keyModels, route, table))
            {
                visible.Add(route);
            }
        }

        return visible;
    }

    private static void WriteTime(Utf8JsonWriter writer, string name, DateTimeOffset? at)
    {
        if (at is { } value)
        {
            writer.WriteString(name, value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private sealed class Status(ProxySnapshot snapshot, bool showUrls, HashSet<ModelRoute>? visible, DateTimeOffset now, DateTimeOffset startedAt, long second)
    {
        private bool Shows(ModelRoute route) => visible is null || visible.Contains(route);

        // A queued request's model, named as the proxy names its route.
        private bool ShowsName(RouteTable table, string? name) =>
            visible is null || (name is not null && table.TryResolve(name, out var match) && visible.Contains(match.Route));

        // A model a server lists as loaded, read as the lists read it: by its own name (never as
        // an alias: a server's model named like an alias is not the alias's model), on a
        // connection that serves its route.
        private bool ShowsLoaded(RouteTable table, Connection connection, string name) =>
            visible is null || (table.TryResolveListedModel(name, out var route) && route.IsServedBy(connection) && visible.Contains(route));

        public void Write(Utf8JsonWriter writer)
        {
            var table = snapshot.Routes;
            writer.WriteStartObject();
            writer.WriteString("version", VersionInfo.Line);
            WriteTime(writer, "started_at", startedAt);
            writer.WriteNumber("uptime_seconds", Math.Round(Math.Max(0, (now - startedAt).TotalSeconds), 3));
            writer.WriteNumber("window_seconds", RecentRates.WindowSeconds);

            writer.WriteStartArray("connections");
            foreach (var connection in table.AllConnections)
            {
                WriteConnection(writer, table, connection);
            }

            writer.WriteEndArray();

            writer.WriteStartArray("models");
            foreach (var route in table.Models)
            {
                if (Shows(route))
                {
                    WriteModel(writer, route);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
        {
            if (value is null)
            {
                writer.WriteNull(name);
            }
            else
            {
                writer.WriteString(name, value);
            }
        }

        private void WriteConnection(Utf8JsonWriter writer, RouteTable table, Connection connection)
        {
            var health = connection.Health;
            writer.WriteStartObject();
            writer.WriteString("id", connection.Id);
            if (showUrls)
            {
                writer.WriteString("url", connection.BaseUri.ToString());
            }
            else
            {
                writer.WriteNull("url");
            }

            writer.WriteString("state", StateOf(connection));
            var probe = health.LastProbe;
            WriteTime(writer, "last_probe_at", probe?.At);
            if (probe is null)
            {
                writer.WriteNull("last_probe_answered");
            }
            else
            {
                writer.WriteBoolean("last_probe_answered", probe.Answered);
            }

            var failure = health.LastFailure;
            WriteTime(writer, "last_error_at", failure?.At);
            if (failure is null)
            {
                writer.WriteNull("last_error");
            }
            else
            {
                writer.WriteString("last_error", failure.Reason);
            }

            if (probe?.Version is { } version)
            {
                writer.WriteString("ollama_version", version);
            }
            else
            {
                writer.WriteNull("ollama_version");
            }

            writer.WriteNumber("in_flight", connection.InFlight);
            writer.WriteNumber("queued", connection.Gate.Waiting);
            writer.WriteNumber("limit", connection.Gate.Limit);
            writer.WriteNumber("queue_length", connection.Gate.QueueLength);

            // Who waits, first in line first; the key's name only for a reader who may see URLs.
            writer.WriteStartArray("queue");
            foreach (var queued in connection.Gate.Queued())
            {
                writer.WriteStartObject();
                writer.WriteNumber("position", queued.Position);
                WriteStringOrNull(writer, "model", ShowsName(table, queued.Model) ? queued.Model : null);
                WriteStringOrNull(writer, "key", showUrls ? queued.Key : null);
                writer.WriteNumber("waited_seconds", Math.Round(Math.Max(0, (now - queued.Since).TotalSeconds), 3));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();

            writer.WriteStartArray("loaded_models");
            foreach (var loaded in health.LoadedModels)
            {
                if (!ShowsLoaded(table, connection, loaded.Name))
                {
                    continue;
                }

                writer.WriteStartObject();
                writer.WriteString("name", loaded.Name);
                if (loaded.Size is { } size)
                {
                    writer.WriteNumber("size", size);
                }
                else
                {
                    writer.WriteNull("size");
                }

                if (loaded.ExpiresAt is { } expires)
                {
                    writer.WriteString("expires_at", expires);
                }
                else
                {
                    writer.WriteNull("expires_at");
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();

            writer.WriteStartArray("models");
            foreach (var route in table.Models)
            {
                if (route.IsServedBy(connection) && Shows(route))
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", route.Name);
                    writer.WriteString("source", route.IsDiscovered ? "discovered" : "configured");
                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();

            var totals = new RateTotals();
            connection.Recent.AddTo(totals, second);
            WriteRates(writer, "rates", totals);
            writer.WriteEndObject();
        }

        private void WriteModel(Utf8JsonWriter writer, ModelRoute route)
        {
            writer.WriteStartObject();
            writer.WriteString("name", route.Name);
            writer.WriteString("source", route.IsDiscovered ? "discovered" : "configured");
            writer.WriteStartArray("aliases");
            foreach (var alias in route.Aliases)
            {
                writer.WriteStringValue(alias);
            }

            writer.WriteEndArray();

            var totals = new RateTotals();
            writer.WriteStartArray("routes");
            foreach (var connection in route.Connections)
            {
                var activity = connection.Activity(route.Canonical);
                activity.Recent.AddTo(totals, second);
                writer.WriteStartObject();
                writer.WriteString("connection", connection.Id);
                writer.WriteString("state", StateOf(connection));
                writer.WriteBoolean("loaded", connection.Health.IsLoaded(route.Canonical));
                writer.WriteNumber("in_flight", activity.Generations);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            WriteRates(writer, "rates", totals);
            writer.WriteEndObject();
        }
    }
}
