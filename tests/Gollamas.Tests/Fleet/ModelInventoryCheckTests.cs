using Gollamas.Connections;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Fleet;

/// <summary>
/// The start-up model check: each server's /api/tags read once, a configured model it lacks
/// reported once with the closest names it has; again after a swap, and for a server not
/// reached at first, once it answers.
/// </summary>
public sealed class ModelInventoryCheckTests : TwoServersTest
{
    [Fact]
    public async Task Start_ModelMissing_WarnsOnceWithTheClosestNames_PresentOnesSilent()
    {
        A.Models = [new FakeModel("qwen3:8b"), new FakeModel("qwen3:30b"), new FakeModel("llama3.2:latest"), new FakeModel("phi4:latest"), new FakeModel("mistral:7b")];

        Proxy = await StartAsync(["qwen3=a", "registry.ollama.ai/library/llama3.2:latest=a", "Phi4=a"]);
        await CheckedAsync("a");

        Warnings().Should().Equal($"Warning: Model qwen3 is not on 'a' ({A.BaseUri}); it has qwen3:8b, qwen3:30b, phi4:latest and 2 more");
        A.Requests.Count(static r => r.Path == "/api/tags").Should().Be(1);
    }

    [Fact]
    public async Task Start_ServerWithoutModels_SaysSo()
    {
        Proxy = await StartAsync(["llama3.2=a"]);
        await CheckedAsync("a");

        Warnings().Should().Equal($"Warning: Model llama3.2 is not on 'a' ({A.BaseUri}); it has no models");
    }

    [Fact]
    public async Task Start_HostileNamesFromTheServer_NeverReachTheLog()
    {
        A.Models =
        [
            new FakeModel("qwen3:8b\u001b[2J"),
            new FakeModel("qwen3:4b\r\nWarning: forged line"),
            new FakeModel("qwen3:\u202Eb8"),
            new FakeModel("qwen3:1.7b"),
        ];

        Proxy = await StartAsync(["qwen3=a"]);
        await CheckedAsync("a");

        Warnings().Should().Equal($"Warning: Model qwen3 is not on 'a' ({A.BaseUri}); it has qwen3:1.7b");
        Proxy.Logs.Lines.Should().NotContain(static l => l.Contains('\u001b') || l.Contains('\r') || l.Contains('\n') || l.Contains('\u202E') || l.Contains("forged", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Swap_ChecksTheNewSnapshotsServers_AndRepeatsNoWarning()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        B.Models = [new FakeModel("phi4:14b")];
        Proxy = await StartAsync(["llama3.2=a", "qwen3=a"]);
        await CheckedAsync("a");

        var checkedA = CheckedSignal(A);
        var checkedB = CheckedSignal(B);
        Proxy.Swap(["llama3.2=a", "qwen3=a", "phi4=b"], Connections());
        await checkedA.DefaultTimeout();
        await checkedB.DefaultTimeout();

        Warnings().Should().Equal(
            $"Warning: Model qwen3 is not on 'a' ({A.BaseUri}); it has llama3.2:latest",
            $"Warning: Model phi4 is not on 'b' ({B.BaseUri}); it has phi4:14b");
        A.Requests.Count(static r => r.Path == "/api/tags").Should().Be(2, "the swap read a's list again");
    }

    [Fact]
    public async Task Start_ServerNotReached_NoWarningOfItsOwn_CheckedOnceAProbeSucceeds()
    {
        var answers = 0;
        A.Map("GET", "/api/tags", async (context, _) =>
        {
            if (Interlocked.Increment(ref answers) == 1)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"models":[{"name":"qwen3:8b","model":"qwen3:8b"}]}""");
        });
        Proxy = await StartAsync(["qwen3=a"]);
        await Proxy.Logs.WaitForAsync(static l => l.StartsWith("Debug: Models of 'a'", StringComparison.Ordinal) && l.EndsWith("not checked: /api/tags answered 503", StringComparison.Ordinal)).DefaultTimeout();
        var checkedAgain = CheckedSignal(A);

        await Proxy.ProbeRoundAsync();
        await checkedAgain.DefaultTimeout();

        Warnings().Should().Equal($"Warning: Model qwen3 is not on 'a' ({A.BaseUri}); it has qwen3:8b");
    }

    private string[] Connections() => [$"a={A.BaseUri}", $"b={B.BaseUri}"];

    private Task<ProxyUnderTest> StartAsync(string[] proxies) => ProxyUnderTest.StartAsync(proxies, Connections(), checkModels: true);

    private Task<string> CheckedAsync(string id) =>
        Proxy!.Logs.WaitForAsync(l => l.StartsWith($"Debug: Models of '{id}'", StringComparison.Ordinal) && l.Contains(" checked: ", StringComparison.Ordinal)).DefaultTimeout();

    private List<string> Warnings() => [.. Proxy!.Logs.Lines.Where(static l => l.StartsWith("Warning: Model ", StringComparison.Ordinal))];

    // Completes when the next check of the server on fake's address has ended.
    private Task CheckedSignal(FakeOllamaServer fake)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChecked(Connection connection)
        {
            if (connection.BaseUri == fake.BaseUri)
            {
                Proxy!.Server.ModelCheck.Checked -= OnChecked;
                done.TrySetResult();
            }
        }

        Proxy!.Server.ModelCheck.Checked += OnChecked;
        return done.Task;
    }
}
