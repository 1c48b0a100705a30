using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Published;

/// <summary>The Native-AOT binary started with the example configuration file of deploy/.</summary>
public sealed class ConfigFileBinaryTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu1 = null!;
    private FakeOllamaServer _gpu2 = null!;
    private FakeOllamaServer _cpu1 = null!;

    public async Task InitializeAsync()
    {
        _gpu1 = await FakeOllamaServer.StartAsync("gpu1");
        _gpu2 = await FakeOllamaServer.StartAsync("gpu2");
        _cpu1 = await FakeOllamaServer.StartAsync("cpu1");
    }

    public async Task DisposeAsync()
    {
        await _gpu1.DisposeAsync();
        await _gpu2.DisposeAsync();
        await _cpu1.DisposeAsync();
    }

    [Fact]
    public async Task Binary_WithTheExampleFile_RoutesByItAndLogsTheFlagsThatWinOverIt()
    {
        // The example's servers are elsewhere: the flags put the fakes in their place, and the
        // addresses on loopback, which is also how an operator overrides a file's setting.
        var example = Path.Combine(AppContext.BaseDirectory, "Deploy", "gollamas.yaml");
        _cpu1.Models = [new FakeModel("nomic-embed-text:latest"), new FakeModel("bge-m3:567m"), new FakeModel("bge-m3:567m-fp16"), new FakeModel("phi4:14b")];
        await using var proxy = await RunningBinary.StartAsync(
            "--config", example,
            "--listen", "127.0.0.1:0",
            "--metrics-listen", "127.0.0.1:0",
            "--connections", $"gpu1={_gpu1.BaseUri},gpu2={_gpu2.BaseUri},cpu1={_cpu1.BaseUri}");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };

        using var chat = await client.PostAsync("/api/chat", new StringContent("""{"model":"gpt-4o","stream":false}"""));
        using var embed = await client.PostAsync("/v1/embeddings", new StringContent("""{"model":"text-embedding-3-small","input":"x"}"""));

        chat.StatusCode.Should().Be(HttpStatusCode.OK);
        // Either GPU server (the route choice weighs their loads, the preloads among them).
        var chatSent = await Task.WhenAny(
            _gpu1.WaitForRequestAsync(static r => r.Path == "/api/chat"),
            _gpu2.WaitForRequestAsync(static r => r.Path == "/api/chat")).DefaultTimeout();
        (await chatSent).BodyText.Should().Be("""{"model":"llama3.2","stream":false,"keep_alive":1800}""");
        embed.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _cpu1.WaitForRequestAsync(static r => r.Path == "/v1/embeddings").DefaultTimeout()).BodyText
            .Should().Contain("\"model\":\"nomic-embed-text\"");

        // cpu1's discover: its bge-m3 is routed; what its patterns leave out is not.
        using var discovered = await client.PostAsync("/api/embed", new StringContent("""{"model":"bge-m3:567m","input":"x"}"""));
        using var excluded = await client.PostAsync("/api/embed", new StringContent("""{"model":"bge-m3:567m-fp16","input":"x"}"""));
        using var notIncluded = await client.PostAsync("/api/embed", new StringContent("""{"model":"phi4:14b","input":"x"}"""));
        discovered.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _cpu1.WaitForRequestAsync(static r => r.Path == "/api/embed").DefaultTimeout()).BodyText.Should().Contain("\"model\":\"bge-m3:567m\"");
        excluded.StatusCode.Should().Be(HttpStatusCode.NotFound);
        notIncluded.StatusCode.Should().Be(HttpStatusCode.NotFound);
        proxy.Terminate();
        (await proxy.WaitForExitAsync()).Should().Be(0);
        proxy.Stderr.Should().Contain($"Configuration read from {example}")
            .And.Contain($"listen: --listen 127.0.0.1:0 is used, not {example}:{LineOf(example, "listen: 0.0.0.0:11434")}'s 0.0.0.0:11434")
            .And.Contain($"metrics_listen: --metrics-listen 127.0.0.1:0 is used, not {example}:")
            .And.Contain($"connections: --connections gpu1={_gpu1.BaseUri}, gpu2={_gpu2.BaseUri}, cpu1={_cpu1.BaseUri} is used, not {example}:{LineOf(example, "url: http://10.0.0.5:11434")}'s gpu1=http://10.0.0.5:11434")
            .And.Contain("Route qwen3:8b -> ")
            .And.Contain("Alias gpt-4o-mini -> qwen3:8b")
            .And.Contain($"Ollama server 'cpu1' ({_cpu1.BaseUri}) lists 4 models; --discover (*embed*, bge-* but not *fp16) takes 2: nomic-embed-text:latest, bge-m3:567m");
    }

    // The line of the example that starts with text (after its indentation), from 1.
    private static int LineOf(string file, string text) =>
        Array.FindIndex(File.ReadAllLines(file), line => line.TrimStart().StartsWith(text, StringComparison.Ordinal)) + 1;
}
