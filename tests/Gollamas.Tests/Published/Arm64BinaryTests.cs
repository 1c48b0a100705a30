using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Published;

/// <summary>
/// The linux-arm64 Native-AOT binary, started under qemu user emulation on the x64 machine that
/// cross-built it: it starts, answers its probes and forwards to a server, as the x64 one does.
/// </summary>
public sealed class Arm64BinaryTests : IAsyncLifetime
{
    // Emulated code runs tens of times slower; the first request also translates code never run before.
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(60);

    private FakeOllamaServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeOllamaServer.StartAsync("gpu");
        _server.Models = [new FakeModel("llama3.2:latest")];
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Arm64Fact]
    public async Task Arm64Binary_Version_PrintsLinuxArm64()
    {
        await using var binary = EmulatedArm64Binary.Start("--version");

        (await binary.WaitForExitAsync(EmulatedArm64Binary.StartTimeout)).Should().Be(0);
        binary.Stdout.Should().MatchRegex(@"^gollamas \d+\.\d+\.\d+\S* \(commit \S+, linux-arm64\)$");
        EmulatedArm64Binary.ElfMachine().Should().Be(EmulatedArm64Binary.ElfMachineAarch64, "the binary must be an AArch64 executable");
    }

    [Arm64Fact]
    public async Task Arm64Binary_UnderQemu_AnswersHealthzForwardsAChatAndStopsOnSigterm()
    {
        await using var proxy = EmulatedArm64Binary.Start("--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_server.BaseUri}");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(EmulatedArm64Binary.StartTimeout), Timeout = s_requestTimeout };

        using var healthz = await client.GetAsync("/healthz");
        var healthzBody = await healthz.Content.ReadAsStringAsync();
        using var chat = await client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}"""));
        var lines = (await chat.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        proxy.Terminate();
        var exitCode = await proxy.WaitForExitAsync(EmulatedArm64Binary.StartTimeout);

        healthz.StatusCode.Should().Be(HttpStatusCode.OK);
        healthzBody.Should().Be("""{"status":"ok"}""");
        chat.StatusCode.Should().Be(HttpStatusCode.OK);
        chat.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        lines.Should().HaveCount(_server.ChunkCount + 1);
        lines[^1].Should().Contain("\"done\":true");
        (await _server.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout()).BodyText.Should().Contain("\"model\":\"llama3.2\"");
        exitCode.Should().Be(0);
        proxy.Stderr.Should().Contain("Route llama3.2 -> ");
    }
}
