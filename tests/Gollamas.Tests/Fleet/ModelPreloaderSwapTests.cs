using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Fleet;

/// <summary>--preload follows snapshot swaps: models dropped stop being kept loaded, models added are loaded.</summary>
public sealed class ModelPreloaderSwapTests : TwoServersTest
{
    private static readonly string[] Routes = ["llama3.2=a", "phi4=b"];

    [Fact]
    public async Task Swap_PreloadOfAnotherModel_LoadsItAtOnce_AndPingsOnlyIt()
    {
        Proxy = await StartAsync("llama3.2");
        await LoadEndedAsync("Model llama3.2 loaded on 'a'");

        Proxy.Swap(Routes, Connections(), input: ProxyUnderTest.Flags("--preload", "phi4", "--ping-interval", "1m"));
        var load = await B.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout();
        await LoadEndedAsync("Model phi4 loaded on 'b'");
        Proxy.Time.Advance(TimeSpan.FromMinutes(1));
        await LoadEndedAsync("Model phi4 kept loaded on 'b'");

        load.BodyText.Should().Be("""{"model":"phi4"}""");
        A.Requests.Count(static r => r.Path == "/api/generate").Should().Be(1, "llama3.2 is no longer preloaded: not pinged");
        B.Requests.Count(static r => r.Path == "/api/generate").Should().Be(2);
    }

    [Fact]
    public async Task Swap_DroppingAPreloadedModel_CutsItsLoadInFlight_WithoutAFailure()
    {
        var cut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        A.Map("POST", "/api/generate", async (context, _) =>
        {
            // Never answered: the load runs until the proxy cuts it.
            await using var registration = context.RequestAborted.Register(() => cut.TrySetResult());
            await cut.Task;
        });
        Proxy = await StartAsync("llama3.2");
        await A.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout();

        Proxy.Swap(Routes, Connections());

        await cut.Task.DefaultTimeout();
        Proxy.Server.Preloader.IsPinging.Should().BeFalse("no model is preloaded any more");
        Proxy.Logs.Lines.Should().NotContain(static l => l.StartsWith("Warning: Could not load", StringComparison.Ordinal), "a load cut by a swap is no failure");
    }

    [Fact]
    public async Task Swap_PingIntervalSet_StartsPingingAtIt()
    {
        Proxy = await ProxyUnderTest.StartAsync(Routes, Connections(), input: ProxyUnderTest.Flags("--preload", "llama3.2"));
        await LoadEndedAsync("Model llama3.2 loaded on 'a'");
        var pingingBefore = Proxy.Server.Preloader.IsPinging;

        Proxy.Swap(Routes, Connections(), input: ProxyUnderTest.Flags("--preload", "llama3.2", "--ping-interval", "2m"));
        Proxy.Time.Advance(TimeSpan.FromMinutes(2));
        await LoadEndedAsync("Model llama3.2 kept loaded on 'a'");

        pingingBefore.Should().BeFalse();
        Proxy.Server.Preloader.IsPinging.Should().BeTrue();
        A.Requests.Count(static r => r.Path == "/api/generate").Should().Be(2, "the model stays preloaded (not loaded again by the swap), then is pinged");
    }

    private string[] Connections() => [$"a={A.BaseUri}", $"b={B.BaseUri}"];

    private Task<ProxyUnderTest> StartAsync(string preload) =>
        ProxyUnderTest.StartAsync(Routes, Connections(), input: ProxyUnderTest.Flags("--preload", preload, "--ping-interval", "1m"));

    private Task<string> LoadEndedAsync(string line) =>
        Proxy!.Logs.WaitForAsync(l => l.Contains(line, StringComparison.Ordinal)).DefaultTimeout();
}
