using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Fleet;

/// <summary>--preload and --ping-interval against two real fake servers.</summary>
public class ModelPreloaderTests : TwoServersTest
{
    private const string Loaded = """{"model":"llama3.2","created_at":"2026-01-01T00:00:00Z","response":"","done":true,"done_reason":"load"}""";

    [Fact]
    public async Task Preload_AtStart_LoadsOnEveryRoute_WithTheModelsKeepAliveAndContext()
    {
        Proxy = await StartAsync(["--preload", "gpt-4o", "--keep-alive", "llama3.2=-1", "--num-ctx", "8192"]);

        var onA = await A.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout();
        var onB = await B.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout();

        onA.BodyText.Should().Be("""{"model":"llama3.2","keep_alive":-1,"options":{"num_ctx":8192}}""");
        onB.BodyText.Should().Be(onA.BodyText);
        onA.Headers["Content-Type"].Should().Be("application/json");
        Proxy.Logs.Lines.Should().Contain($"Information: Loading model llama3.2 on {A.BaseUri}");
        await Proxy.Logs.WaitForAsync(l => l.StartsWith($"Information: Model llama3.2 loaded on {A.BaseUri} in ", StringComparison.Ordinal)
            && l.EndsWith(" (keep-alive -1, num_ctx 8192)", StringComparison.Ordinal)).DefaultTimeout();
        await Proxy.Logs.WaitForAsync(l => l.StartsWith($"Information: Model llama3.2 loaded on {B.BaseUri}", StringComparison.Ordinal)).DefaultTimeout();
    }

    [Fact]
    public async Task Preload_WithoutSettings_SendsTheBareLoadRequest()
    {
        Proxy = await StartAsync(["--preload", "llama3.2"]);

        var onA = await A.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout();

        onA.BodyText.Should().Be("""{"model":"llama3.2"}""");
        Proxy.Server.Preloader.IsPinging.Should().BeFalse("no --ping-interval");
        await Proxy.Logs.WaitForAsync(l => l.Contains("(keep-alive server default, num_ctx server default)", StringComparison.Ordinal)).DefaultTimeout();
    }

    [Fact]
    public async Task Preload_SlowLoad_DoesNotHoldUpTheProxy()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        A.Map("POST", "/api/generate", async (context, _) =>
        {
            await release.Task;
            await context.Response.WriteAsync(Loaded);
        });
        Proxy = await StartAsync(["--preload", "llama3.2"]);
        await A.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout();

        using var tags = await Proxy.Client.GetAsync("/api/tags").DefaultTimeout();
        using var chat = await Proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}""")).DefaultTimeout();

        tags.StatusCode.Should().Be(HttpStatusCode.OK);
        chat.StatusCode.Should().Be(HttpStatusCode.OK, "the proxy serves while a load runs");
        Proxy.Logs.Lines.Should().NotContain(l => l.Contains($"loaded on {A.BaseUri}", StringComparison.Ordinal));
        release.SetResult();
        await Proxy.Logs.WaitForAsync(l => l.Contains($"Model llama3.2 loaded on {A.BaseUri}", StringComparison.Ordinal)).DefaultTimeout();
    }

    [Fact]
    public async Task Preload_EmbeddingModel_IsLoadedWithAnEmptyEmbedRequest()
    {
        foreach (var server in new[] { A, B })
        {
            server.Map("POST", "/api/generate", static (context, _) =>
            {
                context.Response.StatusCode = 400;
                return context.Response.WriteAsync("""{"error":"\"llama3.2\" does not support generate"}""");
            });
        }

        Proxy = await StartAsync(["--preload", "llama3.2", "--force-num-ctx", "2048", "--ping-interval", "1m"]);

        var embed = await A.WaitForRequestAsync(static r => r.Path == "/api/embed").DefaultTimeout();
        embed.BodyText.Should().Be("""{"model":"llama3.2","options":{"num_ctx":2048}}""");
        await Proxy.Logs.WaitForAsync(l => l.Contains($"Model llama3.2 loaded on {A.BaseUri}", StringComparison.Ordinal)).DefaultTimeout();
        await Proxy.Logs.WaitForAsync(l => l.Contains($"Model llama3.2 loaded on {B.BaseUri}", StringComparison.Ordinal)).DefaultTimeout();

        Proxy.Time.Advance(TimeSpan.FromMinutes(1));
        await A.WaitForRequestAsync(_ => A.Requests.Count(static r => r.Path == "/api/embed") == 2).DefaultTimeout();
        Loads(A).Should().Be(1, "once the server said the model cannot generate, pings go to /api/embed at once");
    }

    [Fact]
    public async Task Preload_Failure_IsLoggedAndCountedAsTheProxysOwn()
    {
        A.RejectAllModels = true;
        Proxy = await StartAsync(["--preload", "llama3.2"]);

        var failed = await Proxy.Logs.WaitForAsync(l => l.StartsWith("Warning: Could not load model", StringComparison.Ordinal)).DefaultTimeout();
        await Proxy.Logs.WaitForAsync(l => l.Contains($"Model llama3.2 loaded on {B.BaseUri}", StringComparison.Ordinal)).DefaultTimeout();

        failed.Should().Be($"Warning: Could not load model llama3.2 on {A.BaseUri} (preload): 404: model 'llama3.2' not found");
        var metrics = await Proxy.Client.GetStringAsync("/metrics");
        metrics.Should().Contain($$"""gollamas_model_loads_total{model="llama3.2",connection="{{A.BaseUri.Authority}}",reason="preload",result="failed"} 1""");
        metrics.Should().Contain($$"""gollamas_model_loads_total{model="llama3.2",connection="{{B.BaseUri.Authority}}",reason="preload",result="loaded"} 1""");
        metrics.Should().NotContain("gollamas_requests_total{endpoint=\"/api/generate\"", "loads are not client traffic");
        Proxy.Logs.Lines.Should().NotContain(l => l.Contains("POST /api/generate", StringComparison.Ordinal), "the access log is for clients");
    }

    [Fact]
    public async Task Preload_ServerComesBackUp_IsLoadedThereAgain()
    {
        var versionFails = false;
        A.Map("GET", "/api/version", (context, _) =>
        {
            context.Response.StatusCode = Volatile.Read(ref versionFails) ? 500 : 200;
            return context.Response.WriteAsync("""{"version":"0.9.6"}""");
        });
        Proxy = await StartAsync(["--preload", "llama3.2"]);
        await Proxy.Logs.WaitForAsync(l => l.Contains($"Model llama3.2 loaded on {A.BaseUri}", StringComparison.Ordinal)).DefaultTimeout();
        Volatile.Write(ref versionFails, true);
        for (var i = 0; i < 3; i++)
        {
            await Proxy.ProbeRoundAsync();
        }

        Volatile.Write(ref versionFails, false);
        await Proxy.ProbeRoundAsync();

        await A.WaitForRequestAsync(r => r.Path == "/api/generate" && Loads(A) == 2).DefaultTimeout();
        Loads(B).Should().Be(1, "B never went down");
    }

    [Fact]
    public async Task Preload_ServerNotReachedAtStart_IsLoadedWhenItNextAnswersAProbe()
    {
        // A drops the first load's connection, as a server that is still starting (or restarting)
        // does: never marked down, so only its next answered probe can bring the load.
        var dropped = 0;
        A.Map("POST", "/api/generate", (context, _) =>
        {
            if (Interlocked.Increment(ref dropped) == 1)
            {
                context.Abort();
                return Task.CompletedTask;
            }

            return context.Response.WriteAsync(Loaded);
        });
        Proxy = await StartAsync(["--preload", "llama3.2"]);
        await Proxy.Logs.WaitForAsync(l => l.StartsWith($"Warning: Could not load model llama3.2 on {A.BaseUri} (preload)", StringComparison.Ordinal)).DefaultTimeout();

        await Proxy.ProbeRoundAsync();

        await Proxy.Logs.WaitForAsync(l => l.Contains($"Model llama3.2 loaded on {A.BaseUri}", StringComparison.Ordinal)).DefaultTimeout();
        Loads(A).Should().Be(2);
        Loads(B).Should().Be(1, "B's load went through the first time");
    }

    [Fact]
    public async Task Preload_StaleLoadOnAServerThatComesBack_IsCutAndSentAgain()
    {
        // The first load never gets an answer (the server went silent); the server is marked
        // down, then answers probes again: the hanging load must not stand in for a new one.
        var versionFails = false;
        var loads = 0;
        A.Map("GET", "/api/version", (context, _) =>
        {
            context.Response.StatusCode = Volatile.Read(ref versionFails) ? 500 : 200;
            return context.Response.WriteAsync("""{"version":"0.9.6"}""");
        });
        A.Map("POST", "/api/generate", async (context, _) =>
        {
            if (Interlocked.Increment(ref loads) == 1)
            {
                // Silent until the proxy drops the connection.
                var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using var registration = context.RequestAborted.Register(() => dropped.TrySetResult());
                await dropped.Task;
                return;
            }

            await context.Response.WriteAsync(Loaded);
        });
        Proxy = await StartAsync(["--preload", "llama3.2", "--ping-interval", "1h"]);
        await A.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout();
        Volatile.Write(ref versionFails, true);
        for (var i = 0; i < 3; i++)
        {
            await Proxy.ProbeRoundAsync();
        }

        Volatile.Write(ref versionFails, false);
        await Proxy.ProbeRoundAsync();

        await Proxy.Logs.WaitForAsync(l => l.Contains($"Model llama3.2 loaded on {A.BaseUri}", StringComparison.Ordinal)).DefaultTimeout();
        Loads(A).Should().Be(2);
        Proxy.Logs.Lines.Should().NotContain(l => l.StartsWith("Warning: Could not load", StringComparison.Ordinal), "a load cut to send it again is no failure");
    }

    [Fact]
    public async Task Ping_RepeatsTheLoadOnTheInjectedClock_AndReportsFailures()
    {
        Proxy = await StartAsync(["--preload", "llama3.2", "--ping-interval", "1m", "--keep-alive", "10m", "--health-interval", "2m"]);
        Proxy.Server.Preloader.IsPinging.Should().BeTrue();
        await WaitForLoadsAsync(1, 1);

        Proxy.Time.Advance(TimeSpan.FromMinutes(1));
        await WaitForLoadsAsync(2, 2);
        A.Requests.Where(static r => r.Path == "/api/generate").Should().OnlyContain(static r => r.BodyText == """{"model":"llama3.2","keep_alive":600}""");

        A.RejectAllModels = true;
        Proxy.Time.Advance(TimeSpan.FromMinutes(1));
        await WaitForLoadsAsync(3, 3);
        await Proxy.Logs.WaitForAsync(l => l == $"Warning: Could not load model llama3.2 on {A.BaseUri} (ping): 404: model 'llama3.2' not found").DefaultTimeout();
        var metrics = await Proxy.Client.GetStringAsync("/metrics");
        metrics.Should().Contain($$"""gollamas_model_loads_total{model="llama3.2",connection="{{B.BaseUri.Authority}}",reason="ping",result="loaded"} 2""");
    }

    private static int Loads(FakeOllamaServer server) => server.Requests.Count(static r => r.Path == "/api/generate");

    // Until the proxy is done with that many loads on each server (answered, logged, and no
    // longer running, so the next tick is not skipped as "still loading").
    private async Task WaitForLoadsAsync(int onA, int onB)
    {
        await LoadsEndedAsync(A, onA);
        await LoadsEndedAsync(B, onB);
        (Loads(A), Loads(B)).Should().Be((onA, onB));
    }

    private async Task LoadsEndedAsync(FakeOllamaServer server, int count)
    {
        var ended = 0;
        string[] endings = [$"Model llama3.2 loaded on {server.BaseUri} ", $"Model llama3.2 kept loaded on {server.BaseUri} ", $"Could not load model llama3.2 on {server.BaseUri} "];
        await Proxy!.Logs.WaitForAsync(l => endings.Any(e => l.Contains(e, StringComparison.Ordinal)) && ++ended == count).DefaultTimeout();
    }

    private Task<ProxyUnderTest> StartAsync(string[] flags) =>
        ProxyUnderTest.StartAsync(
            [$"llama3.2={A.BaseUri}", $"llama3.2={B.BaseUri}"],
            aliases: ["gpt-4o=llama3.2"],
            input: ProxyUnderTest.Flags(flags));
}
