using System.Text;
using Gollamas.Diagnostics;
using Gollamas.Metrics;

namespace Gollamas.Tests.Metrics;

/// <summary>
/// Counting a finished request allocates nothing once its series exist: the requests counter, the
/// endpoint's histograms and the model's series on its connection (found with one lookup, a
/// struct key of two strings). Bytes counted, not time.
/// </summary>
public sealed class ProxyMetricsAllocationTests
{
    [Fact]
    public void RecordRequest_SeriesExist_AllocatesNothing()
    {
        const int Requests = 1_000;
        var metrics = new ProxyMetrics();
        var record = new RequestRecord
        {
            Endpoint = "/api/chat",
            ResolvedModel = "llama3.2",
            Connection = "gpu1",
            TokenCounts = TokenCounts.Ollama,
            PromptTokens = 26,
            GeneratedTokens = 290,
            FirstToken = System.Diagnostics.Stopwatch.GetTimestamp(),
        };

        // A first pass creates the series and lets the runtime settle; the second is measured.
        Many(metrics, record, Requests);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Many(metrics, record, Requests);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        (allocated / Requests).Should().Be(0);
        var text = new StringBuilder();
        metrics.WriteTo(text, []);
        text.ToString().Should().Contain("gollamas_model_request_duration_seconds_count{model=\"llama3.2\",connection=\"gpu1\"} 2000\n")
            .And.Contain("gollamas_generated_tokens_total{model=\"llama3.2\",connection=\"gpu1\"} 580000\n")
            .And.Contain("gollamas_time_to_first_token_seconds_count{model=\"llama3.2\",connection=\"gpu1\"} 2000\n");
    }

    private static void Many(ProxyMetrics metrics, RequestRecord record, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            metrics.RecordRequest(record, 200);
        }
    }
}
