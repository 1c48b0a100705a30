using System.Net;
using System.Text;
using System.Text.Json;
using Gollamas.Simulator;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Simulator;

/// <summary>What crosses the wire from a simulated server: Ollama's framing, fields and errors.</summary>
public sealed class SimOllamaServerTests : IAsyncLifetime
{
    private static readonly SimModel s_model = new("sim:latest", 4, 1000, 50);
    private readonly ManualClock _clock = new();
    private SimOllamaServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await SimOllamaServer.StartAsync(new SimServer(new SimServerOptions { Name = "s", NumParallel = 1, MaxQueue = 1, Models = [s_model] }, _clock));
        _client = new HttpClient { BaseAddress = _server.BaseUri, Timeout = TestTimeouts.Default };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
        _clock.Dispose();
    }

    [Fact]
    public async Task Chat_Streamed_EndsWithOllamasFinalChunk()
    {
        var send = Post("api/chat", """{"model":"sim","messages":[{"role":"user","content":"hello there"}],"options":{"num_predict":20}}""");
        await _server.Model.WaitForArrivalsAsync(1).DefaultTimeout();
        _clock.AdvanceTo(TimeSpan.FromSeconds(30));

        using var response = await send.DefaultTimeout();
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        var chunks = lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        chunks[..^1].Should().OnlyContain(c => !c.GetProperty("done").GetBoolean() && c.GetProperty("message").GetProperty("content").GetString()!.Length > 0);
        string.Concat(chunks.Select(c => c.GetProperty("message").GetProperty("content").GetString())).Split(' ', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(20);
        var last = chunks[^1];
        last.GetProperty("done").GetBoolean().Should().BeTrue();
        last.GetProperty("done_reason").GetString().Should().Be("length");
        last.GetProperty("model").GetString().Should().Be("sim:latest");
        last.GetProperty("load_duration").GetInt64().Should().Be(2_000_000_000, "4 GB at 0.5 s per GB, in nanoseconds");
        last.GetProperty("prompt_eval_count").GetInt32().Should().Be(5);
        last.GetProperty("prompt_eval_duration").GetInt64().Should().Be(5_000_000);
        last.GetProperty("eval_count").GetInt32().Should().Be(20);
        last.GetProperty("eval_duration").GetInt64().Should().Be(400_000_000);
        last.GetProperty("total_duration").GetInt64().Should().Be(2_405_000_000);
    }

    [Fact]
    public async Task QueueFull_Answers503WithOllamasMessage()
    {
        var load = Post("api/generate", """{"model":"sim"}""");
        await _server.Model.WaitForArrivalsAsync(1).DefaultTimeout();
        _clock.AdvanceTo(TimeSpan.FromSeconds(10));
        using var loaded = await load.DefaultTimeout();
        var running = Post("api/generate", """{"model":"sim","prompt":"one","options":{"num_predict":100}}""");
        var waiting = Post("api/generate", """{"model":"sim","prompt":"two","options":{"num_predict":100}}""");
        await _server.Model.WaitForArrivalsAsync(3).DefaultTimeout();

        using var busy = await Post("api/generate", """{"model":"sim","prompt":"three"}""").DefaultTimeout();
        _clock.AdvanceTo(TimeSpan.FromSeconds(60));

        busy.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        busy.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await busy.Content.ReadAsStringAsync()).Should().Be("""{"error":"server busy, please try again.  maximum pending requests exceeded"}""");
        (await running.DefaultTimeout()).StatusCode.Should().Be(HttpStatusCode.OK);
        (await waiting.DefaultTimeout()).StatusCode.Should().Be(HttpStatusCode.OK);
        (await loaded.Content.ReadAsStringAsync()).Should().Contain("\"done_reason\":\"load\"");
    }

    [Fact]
    public async Task Ps_ListsTheLoadedModelWithItsExpiry()
    {
        var send = Post("api/chat", """{"model":"sim","messages":[{"role":"user","content":"hi"}],"keep_alive":"10m","options":{"num_predict":5,"num_ctx":8192}}""");
        await _server.Model.WaitForArrivalsAsync(1).DefaultTimeout();
        _clock.AdvanceTo(TimeSpan.FromSeconds(30));
        using var answer = await send.DefaultTimeout();
        var done = JsonDocument.Parse((await answer.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        var finished = TimeSpan.FromTicks(done.GetProperty("total_duration").GetInt64() / 100);

        var ps = JsonDocument.Parse(await _client.GetStringAsync("api/ps")).RootElement.GetProperty("models");

        ps.GetArrayLength().Should().Be(1);
        var model = ps[0];
        model.GetProperty("name").GetString().Should().Be("sim:latest");
        model.GetProperty("size").GetInt64().Should().Be(4_000_000_000);
        model.GetProperty("size_vram").GetInt64().Should().Be(4_000_000_000);
        model.GetProperty("context_length").GetInt32().Should().Be(8192);
        model.GetProperty("expires_at").GetDateTimeOffset().Should().Be(_clock.UtcAt(finished + TimeSpan.FromMinutes(10)));
    }

    [Fact]
    public async Task UnknownModel_Answers404()
    {
        using var response = await Post("api/chat", """{"model":"nope","messages":[{"role":"user","content":"hi"}]}""").DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'nope' not found"}""");
    }

    [Fact]
    public async Task Root_SaysOllamaIsRunning()
    {
        using var response = await _client.GetAsync(new Uri("/", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("Ollama is running");
    }

    private Task<HttpResponseMessage> Post(string path, string json)
        => _client.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
}
