using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Published;

/// <summary>
/// The Native-AOT binary reloading its --config file: when an editor replaces it, on SIGHUP,
/// when a Kubernetes ConfigMap's link is swapped, and not at all when the new file is wrong; a
/// stream running across a reload ends whole.
/// </summary>
public sealed class ConfigReloadBinaryTests : IAsyncLifetime
{
    private const string HeldBody =
        """{"model":"llama3.2","message":{"content":"a"},"done":false}""" + "\n"
        + """{"model":"llama3.2","message":{"content":""},"done":true}""" + "\n";

    private readonly string _directory = Directory.CreateTempSubdirectory("gollamas-reload-").FullName;
    private FakeOllamaServer _a = null!;
    private FakeOllamaServer _b = null!;

    public async Task InitializeAsync()
    {
        _a = await FakeOllamaServer.StartAsync("a");
        _b = await FakeOllamaServer.StartAsync("b");
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task TheFileReplacedByAnEditor_IsInForceForNewRequests_WhileAStreamStartedBeforeEndsWhole()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":"a"},"done":false}"""));
        script.AddGated(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":""},"done":true}"""), out var release);
        _a.MapScript("POST", "/api/chat", script);
        var file = Path.Combine(_directory, "gollamas.yaml");
        await File.WriteAllTextAsync(file, Config(withPhi4: false));
        await using var proxy = await RunningBinary.StartAsync("--config", file);
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2"}""") };
        using var stream = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().DefaultTimeout();

        var reloaded = proxy.WaitForStderrAsync("Configuration reloaded after a change of the file");
        await ReplaceAsync(file, Config(withPhi4: true));
        await reloaded.DefaultTimeout();
        using var phi4 = await client.PostAsync("/api/chat", new StringContent("""{"model":"phi4","stream":false}""")).DefaultTimeout();
        release.Open();
        var rest = await reader.ReadToEndAsync().DefaultTimeout();

        phi4.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _b.WaitForRequestAsync(static r => r.Path == "/api/chat").DefaultTimeout()).BodyText.Should().Contain("phi4");
        (first + "\n" + rest).Should().Be(HeldBody, "the stream that began before the reload ends byte for byte");
        proxy.Stderr.Should().Contain("models added: phi4; connections added: b");
    }

    [Fact]
    public async Task Sighup_ReloadsTheFile_AndAWrongFileChangesNothing()
    {
        var file = Path.Combine(_directory, "gollamas.yaml");
        await File.WriteAllTextAsync(file, Config(withPhi4: false));
        await using var proxy = await RunningBinary.StartAsync("--config", file);
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };

        var refused = proxy.WaitForStderrAsync("Configuration not reloaded after a change of the file: 1 problem;");
        await ReplaceAsync(file, Config(withPhi4: false) + "helth_interval: 5s\n");
        await refused.DefaultTimeout();
        using var stillServed = await client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}""")).DefaultTimeout();
        var hangup = proxy.WaitForStderrAsync("Configuration reloaded after SIGHUP");
        await File.WriteAllTextAsync(file + ".next", Config(withPhi4: true));

        // Moved in while watching would reload it too: the signal must come from a file that
        // has not changed since, so wait for that reload first.
        var changed = proxy.WaitForStderrAsync("Configuration reloaded after a change of the file");
        File.Move(file + ".next", file, overwrite: true);
        await changed.DefaultTimeout();
        proxy.Signal("HUP");
        await hangup.DefaultTimeout();
        var metrics = await client.GetStringAsync("/metrics").DefaultTimeout();

        stillServed.StatusCode.Should().Be(HttpStatusCode.OK, "the configuration before the wrong file stays in force");
        proxy.Stderr.Should().Contain("helth_interval: unknown key (did you mean 'health_interval'?)");
        metrics.Should().Contain("gollamas_config_reloads_total{result=\"failure\"} 1\n")
            .And.Contain("gollamas_config_reloads_total{result=\"success\"} 2\n");
        proxy.Terminate();
        (await proxy.WaitForExitAsync()).Should().Be(0, "SIGHUP does not end the process");
    }

    [Fact]
    public async Task AConfigMapUpdate_TheDataLinkSwapped_IsReloaded()
    {
        // As kubelet lays out a ConfigMap volume, and as it updates one.
        Directory.CreateDirectory(Path.Combine(_directory, "..2026_12_03_a"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "..2026_12_03_a", "gollamas.yaml"), Config(withPhi4: false));
        File.CreateSymbolicLink(Path.Combine(_directory, "..data"), "..2026_12_03_a");
        var file = Path.Combine(_directory, "gollamas.yaml");
        File.CreateSymbolicLink(file, Path.Combine("..data", "gollamas.yaml"));
        await using var proxy = await RunningBinary.StartAsync("--config", file);
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };

        var reloaded = proxy.WaitForStderrAsync("Configuration reloaded after a change of the file");
        Directory.CreateDirectory(Path.Combine(_directory, "..2026_12_03_b"));
        await File.WriteAllTextAsync(Path.Combine(_directory, "..2026_12_03_b", "gollamas.yaml"), Config(withPhi4: true));
        File.CreateSymbolicLink(Path.Combine(_directory, "..data_tmp"), "..2026_12_03_b");
        using (var rename = System.Diagnostics.Process.Start("mv", ["-T", Path.Combine(_directory, "..data_tmp"), Path.Combine(_directory, "..data")]))
        {
            await rename.WaitForExitAsync().DefaultTimeout();
        }

        await reloaded.DefaultTimeout();
        using var phi4 = await client.PostAsync("/api/chat", new StringContent("""{"model":"phi4","stream":false}""")).DefaultTimeout();

        phi4.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private string Config(bool withPhi4) =>
        $"""
        listen: 127.0.0.1:0
        connections:
          a: {_a.BaseUri}
        {(withPhi4 ? $"  b: {_b.BaseUri}\n" : "")}models:
          llama3.2: [a]
        {(withPhi4 ? "  phi4: [b]\n" : "")}
        """;

    // As editors save: a new file renamed over the old one.
    private static async Task ReplaceAsync(string file, string content)
    {
        await File.WriteAllTextAsync(file + ".swp", content);
        File.Move(file + ".swp", file, overwrite: true);
    }
}
