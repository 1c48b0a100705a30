using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gollamas.Bench.Load;

/// <summary>The run's result: one aligned table on stdout and the same as JSON.</summary>
internal sealed class BenchReport(MachineFacts machine, LoadOptions options, DateTime startedUtc)
{
    private static readonly string[] s_headers = ["metric", "unit", "direct", "nginx", "gollamas", "g/direct", "g/nginx", "target", "met?"];

    private readonly List<MetricRow> _rows = [];
    private readonly List<string> _notes = [];

    public void Add(MetricRow row) => _rows.Add(row);

    public void Note(string note) => _notes.Add(note);

    public string ToTable()
    {
        var cells = new List<string[]> { s_headers };
        foreach (var row in _rows)
        {
            cells.Add(
            [
                row.Name,
                row.Unit,
                Format(row.Direct),
                Format(row.Nginx),
                Format(row.Gollamas),
                FormatRatio(row.RatioToDirect),
                FormatRatio(row.RatioToNginx),
                row.Goal?.Text ?? string.Empty,
                row.Goal is null ? string.Empty : row.Met switch { true => "met", false => "MISSED", null => "n/a" },
            ]);
        }

        var widths = new int[s_headers.Length];
        foreach (var line in cells)
        {
            for (var i = 0; i < line.Length; i++)
            {
                widths[i] = Math.Max(widths[i], line[i].Length);
            }
        }

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Gollamas load bench, {startedUtc:yyyy-MM-dd HH:mm:ss} UTC ({options})");
        text.AppendLine(CultureInfo.InvariantCulture, $"{machine.Cores} cores, {machine.Cpu}; Linux {machine.Kernel}; {machine.Dotnet}; nginx {machine.Nginx}; {machine.Wrk}; {machine.Gollamas}");
        text.AppendLine();
        for (var r = 0; r < cells.Count; r++)
        {
            for (var i = 0; i < cells[r].Length; i++)
            {
                // Text columns align left, figures right.
                var cell = i is 0 or 1 or 7 or 8 ? cells[r][i].PadRight(widths[i]) : cells[r][i].PadLeft(widths[i]);
                text.Append(cell).Append(i + 1 < cells[r].Length ? "  " : string.Empty);
            }

            text.AppendLine();
            if (r == 0)
            {
                text.AppendLine(new string('-', widths.Sum() + (2 * (widths.Length - 1))));
            }
        }

        foreach (var note in _notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"note: {note}");
        }

        return text.ToString();
    }

    /// <summary>Writes bench-TIMESTAMP.json and latest.json; returns the first path.</summary>
    public string WriteJson(string directory)
    {
        Directory.CreateDirectory(directory);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("started_utc", startedUtc.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("options", options.ToString());
            json.WriteStartObject("machine");
            json.WriteNumber("cores", machine.Cores);
            json.WriteString("cpu", machine.Cpu);
            json.WriteString("kernel", machine.Kernel);
            json.WriteString("dotnet", machine.Dotnet);
            json.WriteString("nginx", machine.Nginx);
            json.WriteString("wrk", machine.Wrk);
            json.WriteString("gollamas", machine.Gollamas);
            json.WriteEndObject();
            json.WriteStartArray("metrics");
            foreach (var row in _rows)
            {
                json.WriteStartObject();
                json.WriteString("id", row.Id);
                json.WriteString("name", row.Name);
                json.WriteString("unit", row.Unit);
                WriteNumber(json, "direct", row.Direct);
                WriteNumber(json, "nginx", row.Nginx);
                WriteNumber(json, "gollamas", row.Gollamas);
                WriteNumber(json, "gollamas_to_direct", row.RatioToDirect);
                WriteNumber(json, "gollamas_to_nginx", row.RatioToNginx);
                if (row.Goal is { } goal)
                {
                    json.WriteString("target", goal.Text);
                    if (row.Met is { } met)
                    {
                        json.WriteBoolean("met", met);
                    }
                    else
                    {
                        json.WriteNull("met");
                    }
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("notes");
            foreach (var note in _notes)
            {
                json.WriteStringValue(note);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        var path = Path.Combine(directory, $"bench-{startedUtc:yyyyMMdd'T'HHmmss'Z'}.json");
        File.WriteAllBytes(path, buffer.ToArray());
        File.WriteAllBytes(Path.Combine(directory, "latest.json"), buffer.ToArray());
        return path;
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v))
        {
            json.WriteNumber(name, Math.Round(v, 4));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    // Three significant digits at least, thousands grouped: 48,213 / 2.21 / 0.0412.
    private static string Format(double? value) => value switch
    {
        null => "-",
        var v when Math.Abs(v.Value) >= 1000 => v.Value.ToString("#,0", CultureInfo.InvariantCulture),
        var v when Math.Abs(v.Value) >= 10 => v.Value.ToString("0.0", CultureInfo.InvariantCulture),
        var v when Math.Abs(v.Value) >= 0.1 || v.Value == 0 => v.Value.ToString("0.00", CultureInfo.InvariantCulture),
        var v => v.Value.ToString("0.0000", CultureInfo.InvariantCulture),
    };

    private static string FormatRatio(double? value) => value is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "-";
}
