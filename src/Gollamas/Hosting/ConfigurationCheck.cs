using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Fleet;
using Gollamas.Json;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Hosting;

/// <summary>
/// <c>gollamas check</c>: asks every configured server at once whether it answers, its Ollama
/// version (<c>/api/version</c>) and its models (<c>/api/tags</c>), within the connect and probe
/// timeouts, and prints one table and a verdict, without listening anywhere:
/// <code>
/// CONNECTION  URL                    STATUS  VERSION  MODELS  PROBLEM
/// gpu1        http://10.0.0.5:11434  ok      0.12.3   4       -
/// cpu1        http://10.0.0.7:11434  down    -        -       Connection refused
/// gpu2        http://10.0.0.6:11434  ok      0.12.3   2       missing qwen3 (it has qwen3:8b)
/// </code>
/// </summary>
internal static class ConfigurationCheck
{
    private const int ClosestShown = 2;
    private const int MaxVersionLength = 40;
    private const string None = "-";

    private static readonly string[] s_header = ["CONNECTION", "URL", "STATUS", "VERSION", "MODELS", "PROBLEM"];

    // What a version may print as: Ollama's are "0.12.3" or "0.12.3-rc1"; anything else is foreign text.
    private static readonly SearchValues<char> s_versionChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-+_");

    /// <summary>Checks <paramref name="options"/>' servers and writes the table to <paramref name="output"/>.</summary>
    /// <returns><see cref="ExitCodes.Success"/> when every server answers and has its models, else <see cref="ExitCodes.CheckFailed"/>.</returns>
    public static async Task<int> RunAsync(GollamasOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var settings = new ConnectionSettings
        {
            ConnectTimeout = options.Limits.ConnectTimeout,
            FailuresBeforeDown = options.Health.FailuresBeforeDown,
            QueueLength = options.Concurrency.QueueLength,
        };
        var connections = options.Connections.Select((config, i) => new Connection(config, settings, position: i + 1)).ToArray();
        try
        {
            var rows = await Task.WhenAll(connections.Select((connection, i) =>
                CheckAsync(connection, options.Connections[i], options, cancellationToken)));
            await WriteTableAsync(output, rows);
            var down = rows.Count(static r => !r.Ok);
            var missing = rows.Sum(static r => r.Missing);
            await output.WriteLineAsync(Verdict(rows.Length, down, missing));
            return down == 0 && missing == 0 ? ExitCodes.Success : ExitCodes.CheckFailed;
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection.Dispose();
            }
        }
    }

    private static async Task<Row> CheckAsync(Connection connection, ConnectionConfig config, GollamasOptions options, CancellationToken cancellationToken)
    {
        var url = config.BaseUri.GetLeftPart(UriPartial.Authority);
        var timeout = options.Health.Timeout;
        string version;
        using (var answer = await ServerQuery.GetJsonAsync(connection, "/api/version", timeout, TimeProvider.System, cancellationToken))
        {
            if (answer.Status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden)
            {
                // A server behind a gateway that wants a key: up, as the health probes count it,
                // but its models cannot be read without one. With clients' own keys passed on
                // that is the design; without, every request there would be refused.
                return options.Security.ForwardAuthorization
                    ? new Row(config.Id, url, "ok", None, None, $"{answer.Problem}: it wants each client's own key (passed on with --forward-authorization); its models were not checked", Ok: true, Missing: 0)
                    : new Row(config.Id, url, "error", None, None, $"{answer.Problem}: it wants a key; give it with --connection-header {config.Id}=Authorization=env:VARIABLE", Ok: false, Missing: 0);
            }

            if (answer.Document is null)
            {
                return new Row(config.Id, url, answer.Reached ? "error" : "down", None, None, answer.Problem ?? "not asked", Ok: false, Missing: 0);
            }

            version = ReadVersion(answer.Document);
        }

        using var tags = await ServerQuery.GetJsonAsync(connection, "/api/tags", timeout, TimeProvider.System, cancellationToken);
        if (tags.Document is null)
        {
            return new Row(config.Id, url, "error", version, None, tags.Problem ?? "not asked", Ok: false, Missing: 0);
        }

        var inventory = ModelInventory.Read(tags.Document);
        var missing = new List<string>();
        foreach (var model in options.Models)
        {
            if (model.ConnectionIds.Contains(config.Id)
                && ModelName.TryParse(model.Name, out var name)
                && !inventory.Has(name.Canonical))
            {
                missing.Add($"{model.Name} (it has {inventory.DescribeClosest(name, ClosestShown)})");
            }
        }

        var count = inventory.Count.ToString(CultureInfo.InvariantCulture);

        // A discovering connection: how many of its models its rule would route.
        if (options.Discovery.FirstOrDefault(r => string.Equals(r.ConnectionId, config.Id, StringComparison.Ordinal)) is { } rule)
        {
            var admitted = 0;
            foreach (var model in inventory.Models)
            {
                admitted += rule.Admits(model) ? 1 : 0;
            }

            count += $" ({admitted.ToString(CultureInfo.InvariantCulture)} discovered)";
        }

        return missing.Count == 0
            ? new Row(config.Id, url, "ok", version, count, None, Ok: true, Missing: 0)
            : new Row(config.Id, url, "ok", version, count, "missing " + string.Join("; ", missing), Ok: true, Missing: missing.Count);
    }

    // The server's own text, shown only when it looks like a version.
    private static string ReadVersion(JsonDocument document) =>
        document.RootElement.ValueKind == JsonValueKind.Object
        && document.RootElement.TryGetProperty(JsonNames.Version.EncodedUtf8Bytes, out var value)
        && value.ValueKind == JsonValueKind.String
        && value.GetString() is { Length: > 0 and <= MaxVersionLength } text
        && !text.AsSpan().ContainsAnyExcept(s_versionChars)
            ? text
            : "?";

    private static async Task WriteTableAsync(TextWriter output, Row[] rows)
    {
        var cells = rows.Select(static r => new[] { r.Connection, r.Url, r.Status, r.Version, r.Models, r.Problem }).Prepend(s_header).ToArray();
        var widths = new int[s_header.Length];
        foreach (var line in cells)
        {
            for (var i = 0; i < widths.Length; i++)
            {
                widths[i] = Math.Max(widths[i], line[i].Length);
            }
        }

        var text = new StringBuilder();
        foreach (var line in cells)
        {
            text.Clear();
            for (var i = 0; i < line.Length - 1; i++)
            {
                text.Append(line[i].PadRight(widths[i] + 2));
            }

            await output.WriteLineAsync(text.Append(line[^1]).ToString());
        }
    }

    private static string Verdict(int servers, int failing, int missing)
    {
        if (failing == 0 && missing == 0)
        {
            return servers == 1
                ? "OK: the server answers and has its configured models."
                : $"OK: all {servers} servers answer and have their configured models.";
        }

        var problems = new List<string>(2);
        if (failing > 0)
        {
            problems.Add($"{failing} of {servers} {(servers == 1 ? "server" : "servers")} down or failing");
        }

        if (missing > 0)
        {
            problems.Add($"{missing} configured {(missing == 1 ? "model" : "models")} missing");
        }

        return $"FAILED: {string.Join(", ", problems)}.";
    }

    /// <summary>One line of the table, and what it counts towards the verdict.</summary>
    private sealed record Row(string Connection, string Url, string Status, string Version, string Models, string Problem, bool Ok, int Missing);
}
