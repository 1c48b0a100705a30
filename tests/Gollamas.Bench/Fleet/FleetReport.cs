using System.Globalization;
using System.Text;
using System.Text.Json;
using Gollamas.Simulator;
using Gollamas.Simulator.Workload;

namespace Gollamas.Bench.Fleet;

/// <summary>The fleet run's figures: a table on stdout and one JSON file.</summary>
internal sealed class FleetReport
{
    private const string Baseline = "nginx-rr";

    private readonly FleetOptions _options;
    private readonly IReadOnlyList<Entry> _runs;
    private readonly DateTime _started;

    public FleetReport(FleetOptions options, IReadOnlyList<Entry> runs, DateTime started)
    {
        _options = options;
        _runs = runs;
        _started = started;
    }

    public sealed record Entry(int Seed, FleetSetup Setup, FleetRun Run);

    private IEnumerable<(FleetSetup Setup, FleetMetrics Metrics)> Pooled()
        => _options.Setups.Select(setup => (setup, FleetMetrics.From(_runs.Where(r => r.Setup == setup).Select(r => (r.Run.Result, r.Run.Counters)).ToArray())));

    public string ToTable()
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"Fleet run: {_options}");
        text.AppendLine("Times in simulated seconds; goodput in answer tokens per simulated second, fleet-wide.");
        text.AppendLine();
        text.AppendLine(inv, $"Pooled over seeds {string.Join(',', _options.Seeds)}:");
        var pooled = Pooled().ToArray();
        Table(text, pooled.Select(p => (p.Setup.Name, p.Metrics)));
        var baseline = pooled.FirstOrDefault(p => p.Setup.Name == Baseline).Metrics;
        if (baseline is not null)
        {
            text.AppendLine();
            text.AppendLine("Ratios to nginx round-robin (times and loads: lower is better; goodput and cache hits: higher):");
            text.AppendLine(inv, $"{"setup",-15} {"TTFT p50",9} {"p95",6} {"p99",6} {"E2E p95",8} {"goodput",8} {"loads",6} {"cache",6}");
            foreach (var (setup, m) in pooled)
            {
                text.AppendLine(inv, $"{setup.Name,-15} {Ratio(m.TtftP50, baseline.TtftP50),9} {Ratio(m.TtftP95, baseline.TtftP95),6} {Ratio(m.TtftP99, baseline.TtftP99),6} {Ratio(m.EndToEndP95, baseline.EndToEndP95),8} {Ratio(m.Goodput, baseline.Goodput),8} {Ratio(m.Loads, baseline.Loads),6} {Ratio(m.CacheHitRatio, baseline.CacheHitRatio),6}");
            }
        }

        foreach (var seed in _options.Seeds)
        {
            text.AppendLine();
            var popularity = _runs.First(r => r.Seed == seed).Run.Result.Popularity;
            text.AppendLine(inv, $"Seed {seed} (models by popularity: {string.Join(' ', popularity)}):");
            Table(text, _runs.Where(r => r.Seed == seed).OrderBy(r => _options.Setups.ToList().IndexOf(r.Setup)).Select(r => (r.Setup.Name, r.Run.Metrics)));
        }

        return text.ToString();
    }

    public string WriteJson(string directory)
    {
        Directory.CreateDirectory(directory);
        var name = Path.Combine(directory, $"fleet-{_started:yyyyMMdd-HHmmss}.json");
        using (var stream = File.Create(name))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("started", _started);
            w.WriteString("scenario", _options.Scenario.Name);
            w.WriteNumber("servers", _options.Scenario.Servers);
            w.WriteNumber("memory_gb", _options.Scenario.MemoryGb);
            w.WriteNumber("num_parallel", _options.Scenario.NumParallel);
            w.WriteNumber("users", _options.Scenario.Users);
            w.WriteNumber("duration_s", _options.Scenario.Duration.TotalSeconds);
            w.WriteNumber("scale", _options.Scale);
            w.WriteStartArray("models");
            foreach (var model in _options.Scenario.Models)
            {
                w.WriteStartObject();
                w.WriteString("name", model.Name);
                w.WriteNumber("size_gb", model.SizeGb);
                w.WriteNumber("prompt_tokens_per_s", model.PromptTokensPerSecond);
                w.WriteNumber("generate_tokens_per_s", model.GenerateTokensPerSecond);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            var pooled = Pooled().ToArray();
            var baseline = pooled.FirstOrDefault(p => p.Setup.Name == Baseline).Metrics;
            w.WriteStartArray("pooled");
            foreach (var (setup, metrics) in pooled)
            {
                w.WriteStartObject();
                w.WriteString("setup", setup.Name);
                WriteMetrics(w, metrics);
                if (baseline is not null)
                {
                    w.WriteStartObject("ratio_to_nginx_rr");
                    w.WriteNumber("ttft_p50", metrics.TtftP50 / baseline.TtftP50);
                    w.WriteNumber("ttft_p95", metrics.TtftP95 / baseline.TtftP95);
                    w.WriteNumber("ttft_p99", metrics.TtftP99 / baseline.TtftP99);
                    w.WriteNumber("e2e_p95", metrics.EndToEndP95 / baseline.EndToEndP95);
                    w.WriteNumber("goodput", metrics.Goodput / baseline.Goodput);
                    w.WriteNumber("loads", baseline.Loads == 0 ? double.NaN : (double)metrics.Loads / baseline.Loads);
                    w.WriteNumber("cache_hit_ratio", metrics.CacheHitRatio / baseline.CacheHitRatio);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("runs");
            foreach (var run in _runs)
            {
                w.WriteStartObject();
                w.WriteNumber("seed", run.Seed);
                w.WriteString("setup", run.Setup.Name);
                w.WriteStartArray("popularity");
                foreach (var model in run.Run.Result.Popularity)
                {
                    w.WriteStringValue(model);
                }

                w.WriteEndArray();
                WriteMetrics(w, run.Run.Metrics);
                w.WriteStartArray("servers");
                foreach (var counters in run.Run.PerServer)
                {
                    WriteCounters(w, counters);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        File.Copy(name, Path.Combine(directory, "latest.json"), overwrite: true);
        return name;
    }

    private static void Table(StringBuilder text, IEnumerable<(string Name, FleetMetrics Metrics)> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"{"setup",-15} {"requests",8} {"TTFT p50",9} {"p95",6} {"p99",6} {"E2E p95",8} {"goodput",8} {"loads",6} {"evict",6} {"cache",6} {"503s",5} {"errors",6} {"cut",4}");
        foreach (var (name, m) in rows)
        {
            text.AppendLine(inv, $"{name,-15} {m.Requests,8} {m.TtftP50,9:0.00} {m.TtftP95,6:0.00} {m.TtftP99,6:0.00} {m.EndToEndP95,8:0.00} {m.Goodput,8:0.0} {m.Loads,6} {m.Evictions,6} {m.CacheHitRatio,6:P0} {m.ServerBusy,5} {m.Errors,6} {m.Cut,4}");
        }
    }

    private static string Ratio(double value, double baseline)
        => baseline == 0 || double.IsNaN(baseline) ? "-" : (value / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "x";

    private static void WriteMetrics(Utf8JsonWriter w, FleetMetrics m)
    {
        w.WriteNumber("requests", m.Requests);
        w.WriteNumber("completed", m.Completed);
        w.WriteNumber("errors", m.Errors);
        w.WriteNumber("busy_503_seen_by_clients", m.Busy503Seen);
        w.WriteNumber("cut", m.Cut);
        w.WriteNumber("ttft_p50_s", m.TtftP50);
        w.WriteNumber("ttft_p95_s", m.TtftP95);
        w.WriteNumber("ttft_p99_s", m.TtftP99);
        w.WriteNumber("e2e_p95_s", m.EndToEndP95);
        w.WriteNumber("goodput_tokens_per_s", m.Goodput);
        w.WriteNumber("cold_loads", m.Loads);
        w.WriteNumber("evictions", m.Evictions);
        w.WriteNumber("reloads", m.Reloads);
        w.WriteNumber("server_503s", m.ServerBusy);
        w.WriteNumber("cache_hit_ratio", m.CacheHitRatio);
    }

    private static void WriteCounters(Utf8JsonWriter w, SimCounters c)
    {
        w.WriteStartObject();
        w.WriteNumber("requests", c.Requests);
        w.WriteNumber("completed", c.Completed);
        w.WriteNumber("loads", c.Loads);
        w.WriteNumber("evictions", c.Evictions);
        w.WriteNumber("reloads", c.Reloads);
        w.WriteNumber("expiries", c.Expiries);
        w.WriteNumber("busy", c.Busy);
        w.WriteNumber("prompt_tokens", c.PromptTokens);
        w.WriteNumber("cached_prompt_tokens", c.CachedPromptTokens);
        w.WriteNumber("generated_tokens", c.GeneratedTokens);
        w.WriteEndObject();
    }
}
