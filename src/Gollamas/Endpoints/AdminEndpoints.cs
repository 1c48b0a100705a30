using System.Text.Json;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Diagnostics;
using Gollamas.Errors;
using Gollamas.Fleet;
using Gollamas.Json;
using Gollamas.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gollamas.Endpoints;

/// <summary>
/// The admin actions (POST, an admin key required: the dispatcher let only those in):
/// drain, resume and probe a connection, and reload the configuration. Each answers JSON and is
/// logged at information level with the admin key's name, the action and its target.
/// </summary>
internal sealed partial class AdminEndpoints(HealthMonitor health, ILogger<AdminEndpoints> logger)
{
    private readonly ILogger _logger = logger;

    /// <summary>
    /// Reloads the configuration (the process's <c>ConfigReloader</c>), set while a configuration
    /// file is watched; null: there is no file to read again.
    /// </summary>
    public Func<string, Task<ReloadReport>>? Reload { get; set; }

    /// <summary>
    /// Reads the API and admin keys files again, as SIGHUP does, and completes once they are in
    /// force or refused: why each file refused stays as it was (empty when all are in force), or
    /// null when there is no such file. Null: none can be read.
    /// </summary>
    public Func<Task<IReadOnlyList<string>?>>? ReloadKeys { get; set; }

    /// <summary>The connection takes no new requests; those it has finish. The route choice passes it over.</summary>
    public Task DrainAsync(HttpContext context, ApiSurface surface, RequestRecord record, ProxySnapshot snapshot)
    {
        if (Find(context, surface, snapshot) is not { } connection)
        {
            return UnknownAsync(context, surface);
        }

        connection.Health.SetDraining(true);
        Log.Drained(_logger, record.KeyName ?? "-", connection.Id, connection.InFlight);
        return AnswerAsync(context, connection, probeFailure: null, probed: false);
    }

    /// <summary>The connection takes requests again (if it is up).</summary>
    public Task ResumeAsync(HttpContext context, ApiSurface surface, RequestRecord record, ProxySnapshot snapshot)
    {
        if (Find(context, surface, snapshot) is not { } connection)
        {
            return UnknownAsync(context, surface);
        }

        connection.Health.SetDraining(false);
        Log.Resumed(_logger, record.KeyName ?? "-", connection.Id, FleetStatusEndpoint.StateOf(connection));
        return AnswerAsync(context, connection, probeFailure: null, probed: false);
    }

    /// <summary>Probes the connection now and answers the result (a failure counts toward marking it down, as any probe's).</summary>
    public async Task ProbeAsync(HttpContext context, ApiSurface surface, RequestRecord record, ProxySnapshot snapshot)
    {
        if (Find(context, surface, snapshot) is not { } connection)
        {
            await UnknownAsync(context, surface);
            return;
        }

        var failure = await health.ProbeAsync(connection, context.RequestAborted);
        Log.Probed(_logger, record.KeyName ?? "-", connection.Id, failure ?? "it answered");
        await AnswerAsync(context, connection, failure, probed: true);
    }

    /// <summary>Reads the configuration again and answers what changed, or why nothing did.</summary>
    public async Task ReloadAsync(HttpContext context, RequestRecord record)
    {
        // As SIGHUP: the keys files first (a rotated key is what an operator reloads for most),
        // then the configuration file.
        var keyProblems = ReloadKeys is { } reloadKeys ? await reloadKeys() : null;
        var keysRead = keyProblems is { Count: 0 };
        var reload = Reload;
        if (reload is null)
        {
            if (keyProblems is null)
            {
                Log.ReloadRequested(_logger, record.KeyName ?? "-", "nothing to reload: no configuration file");
                await ErrorWriter.WriteAsync(context, StatusCodes.Status409Conflict, "gollamas: there is no configuration file to reload; start gollamas with --config FILE");
                return;
            }

            Log.ReloadRequested(_logger, record.KeyName ?? "-", keysRead ? "the keys files read again; no configuration file" : "a keys file refused; no configuration file");
            await JsonResponse.WriteAsync(context, keysRead ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity, keyProblems, static (writer, problems) =>
            {
                writer.WriteStartObject();
                writer.WriteBoolean("reloaded", problems.Count == 0);
                writer.WriteBoolean("keys_files_read", problems.Count == 0);
                writer.WriteNull("changes");
                WriteStrings(writer, "problems", problems);
                WriteStrings(writer, "needs_restart", []);
                writer.WriteEndObject();
            });
            return;
        }

        var report = await reload($"an admin action (key {record.KeyName ?? "-"})");
        var result = report.Succeeded ? report.Changes ?? "" : $"refused, {report.Problems.Count} problem(s)";
        if (keyProblems is { Count: > 0 })
        {
            report = report with { Problems = [.. report.Problems, .. keyProblems] };
            result += "; a keys file refused";
        }

        Log.ReloadRequested(_logger, record.KeyName ?? "-", result);

        // A keys file refused makes the answer a 422 too: its problem is the operator's to fix.
        var status = report.Succeeded && keyProblems is not { Count: > 0 } ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity;
        await JsonResponse.WriteAsync(context, status, new ReloadAnswer(report, keysRead), static (writer, answer) =>
        {
            var (report, keysRead) = answer;
            writer.WriteStartObject();
            writer.WriteBoolean("reloaded", report.Succeeded);
            writer.WriteBoolean("keys_files_read", keysRead);
            if (report.Changes is { } changes)
            {
                writer.WriteString("changes", changes);
            }
            else
            {
                writer.WriteNull("changes");
            }

            writer.WriteNumber("models", report.Models);
            writer.WriteNumber("connections", report.Connections);
            WriteStrings(writer, "problems", report.Problems);
            WriteStrings(writer, "needs_restart", report.NeedRestart);
            writer.WriteEndObject();
        });
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IReadOnlyList<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    // The connection the path names, among those the request's snapshot uses.
    private static Connection? Find(HttpContext context, ApiSurface surface, ProxySnapshot snapshot)
    {
        var id = surface.ParameterOf(context.Request.Path.Value!);
        foreach (var connection in snapshot.Connections)
        {
            if (string.Equals(connection.Id, id, StringComparison.Ordinal))
            {
                return connection;
            }
        }

        return null;
    }

    private static Task UnknownAsync(HttpContext context, ApiSurface surface) =>
        ErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound, $"gollamas: no connection '{surface.ParameterOf(context.Request.Path.Value!)}'");

    // A class, not a tuple: a generic writer instantiated over a struct costs its own native code.
    private sealed record Answer(Connection Connection, string? Failure, bool Probed);

    private static Task AnswerAsync(HttpContext context, Connection connection, string? probeFailure, bool probed) =>
        JsonResponse.WriteAsync(context, StatusCodes.Status200OK, new Answer(connection, probeFailure, probed), static (writer, answer) =>
        {
            var (connection, failure, probed) = answer;
            writer.WriteStartObject();
            writer.WriteString("connection", connection.Id);
            writer.WriteString("state", FleetStatusEndpoint.StateOf(connection));
            writer.WriteBoolean("draining", connection.Health.IsDraining);
            writer.WriteNumber("in_flight", connection.InFlight);
            if (probed)
            {
                writer.WriteBoolean("answered", failure is null);
                if (failure is null)
                {
                    writer.WriteNull("error");
                }
                else
                {
                    writer.WriteString("error", failure);
                }

                if (connection.Health.LastProbe?.Version is { } version)
                {
                    writer.WriteString("ollama_version", version);
                }
                else
                {
                    writer.WriteNull("ollama_version");
                }
            }

            writer.WriteEndObject();
        });

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ConnectionDrained, LogLevel.Information, "Admin key {Key}: drain connection {Connection}: it takes no new requests; {InFlight} in flight finish", EventName = "ConnectionDrained")]
        public static partial void Drained(ILogger logger, string key, string connection, int inFlight);

        [LoggerMessage(LogEventIds.ConnectionResumed, LogLevel.Information, "Admin key {Key}: resume connection {Connection}: it takes requests again ({State})", EventName = "ConnectionResumed")]
        public static partial void Resumed(ILogger logger, string key, string connection, string state);

        [LoggerMessage(LogEventIds.ConnectionProbed, LogLevel.Information, "Admin key {Key}: probe connection {Connection}: {Result}", EventName = "ConnectionProbed")]
        public static partial void Probed(ILogger logger, string key, string connection, string result);

        [LoggerMessage(LogEventIds.ReloadRequested, LogLevel.Information, "Admin key {Key}: reload the configuration: {Result}", EventName = "ReloadRequested")]
        public static partial void ReloadRequested(ILogger logger, string key, string result);
    }

    // What a reload answers: the configuration's report and whether keys files were read again.
    private sealed record ReloadAnswer(ReloadReport Report, bool KeysRead);
}
