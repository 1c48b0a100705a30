using System.Net;
using Gollamas.Backends;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Routing;

/// <summary>
/// Per-server limits on requests in flight and the FIFO queue in front of them. A held stream
/// (a gated script) takes the only slot; other requests use other paths of the same server.
/// </summary>
public sealed class ConcurrencyTests : TwoServersTest
{
    [Fact]
    public async Task LimitReached_NextRequestWaitsAndRunsWhenTheSlotFrees()
    {
        var proxy = await StartAsync(limit: 1, queueLength: 4, A.BaseUri);
        var gate = GateOf(proxy, 0);
        var held = Held(out var release);
        A.MapScript("POST", "/api/chat", held);
        using var first = await OpenChatAsync(proxy);
        await held.Started.DefaultTimeout();

        var queued = WhenWaiting(gate, 1);
        var second = proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));
        await queued.DefaultTimeout();

        A.Requests.Should().NotContain(r => r.Path == "/api/generate", "the only slot is taken");
        release.Open();
        (await first.Content.ReadAsStringAsync()).Should().Contain("\"done\":true");
        using var answer = await second.DefaultTimeout();
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        A.Requests.Should().Contain(r => r.Path == "/api/generate");
    }

    [Fact]
    public async Task QueueFull_503AtOnceWithRetryAfter()
    {
        var proxy = await StartAsync(limit: 1, queueLength: 1, A.BaseUri);
        var gate = GateOf(proxy, 0);
        var held = Held(out var release);
        A.MapScript("POST", "/api/chat", held);
        using var first = await OpenChatAsync(proxy);
        await held.Started.DefaultTimeout();
        var queued = WhenWaiting(gate, 1);
        var second = proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));
        await queued.DefaultTimeout();

        using var third = await proxy.Client.PostAsync("/api/embed", new StringContent("""{"model":"llama3.2","input":"x"}"""));

        third.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        third.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        (await third.Content.ReadAsStringAsync()).Should().Be($$"""{"error":"gollamas: Ollama server {{A.BaseUri}} is busy: 1 requests in flight and 1 waiting; try again later"}""");
        A.Requests.Should().NotContain(r => r.Path == "/api/embed");
        release.Open();
        using var answer = await second.DefaultTimeout();
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task WaitLongerThanTheQueueTimeout_503AndNothingForwarded()
    {
        var proxy = await StartAsync(limit: 1, queueLength: 1, A.BaseUri, queueTimeout: TimeSpan.FromSeconds(3));
        var gate = GateOf(proxy, 0);
        var held = Held(out var release);
        A.MapScript("POST", "/api/chat", held);
        using var first = await OpenChatAsync(proxy);
        await held.Started.DefaultTimeout();
        var queued = WhenWaiting(gate, 1);
        var second = proxy.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"llama3.2"}"""));
        await queued.DefaultTimeout();

        proxy.Time.Advance(TimeSpan.FromSeconds(3));
        using var answer = await second.DefaultTimeout();

        answer.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await answer.Content.ReadAsStringAsync()).Should().Be($$$"""{"error":{"message":"gollamas: waited 3 s for Ollama server {{{A.BaseUri}}}, still busy; try again later","type":"api_error","param":null,"code":null}}""");
        gate.Waiting.Should().Be(0);
        A.Requests.Should().NotContain(r => r.Path == "/v1/chat/completions");
        release.Open();
    }

    [Fact]
    public async Task ClientLeavesWhileWaiting_LeavesTheQueueAtOnce()
    {
        var proxy = await StartAsync(limit: 1, queueLength: 1, A.BaseUri);
        var gate = GateOf(proxy, 0);
        var held = Held(out var release);
        A.MapScript("POST", "/api/chat", held);
        using var first = await OpenChatAsync(proxy);
        await held.Started.DefaultTimeout();
        using var leaving = new CancellationTokenSource();
        var queued = WhenWaiting(gate, 1);
        var second = proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""), leaving.Token);
        await queued.DefaultTimeout();

        var left = WhenWaiting(gate, 0);
        await leaving.CancelAsync();
        await left.DefaultTimeout();

        await FluentActions.Awaiting(() => second).Should().ThrowAsync<OperationCanceledException>();
        gate.Waiting.Should().Be(0);
        release.Open();
        (await first.Content.ReadAsStringAsync()).Should().Contain("\"done\":true");
        using var next = await proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));
        next.StatusCode.Should().Be(HttpStatusCode.OK, "the slot came back when the first stream ended");
        A.Requests.Count(r => r.Path == "/api/generate").Should().Be(1);
    }

    [Fact]
    public async Task Waiting_FirstComeFirstServed()
    {
        var proxy = await StartAsync(limit: 1, queueLength: 2, A.BaseUri);
        var gate = GateOf(proxy, 0);
        var held = Held(out var release);
        A.MapScript("POST", "/api/chat", held);
        using var first = await OpenChatAsync(proxy);
        await held.Started.DefaultTimeout();

        var one = WhenWaiting(gate, 1);
        var generate = proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));
        await one.DefaultTimeout();
        var two = WhenWaiting(gate, 2);
        var embed = proxy.Client.PostAsync("/api/embed", new StringContent("""{"model":"llama3.2","input":"x"}"""));
        await two.DefaultTimeout();
        release.Open();
        await Task.WhenAll(generate, embed).DefaultTimeout();

        A.Requests.Select(r => r.Path).Where(p => p != "/api/chat").Should().Equal("/api/generate", "/api/embed");
    }

    [Fact]
    public async Task OneRouteFull_RequestGoesToTheRouteWithAFreeSlotInsteadOfWaiting()
    {
        var proxy = await StartAsync(limit: 1, queueLength: 4, A.BaseUri, B.BaseUri);
        var onA = Held(out var releaseA);
        var onB = Held(out var releaseB);
        A.MapScript("POST", "/api/chat", onA);
        B.MapScript("POST", "/api/chat", onB);

        using var first = await OpenChatAsync(proxy);
        await Task.WhenAny(onA.Started, onB.Started).DefaultTimeout();
        using var second = await OpenChatAsync(proxy);
        await Task.WhenAll(onA.Started, onB.Started).DefaultTimeout();

        GateOf(proxy, 0).Waiting.Should().Be(0);
        GateOf(proxy, 1).Waiting.Should().Be(0);
        releaseA.Open();
        releaseB.Open();
    }

    private async Task<ProxyUnderTest> StartAsync(int limit, int queueLength, Uri first, Uri? second = null, TimeSpan? queueTimeout = null)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: second is null ? [$"llama3.2={first}"] : [$"llama3.2={first}", $"llama3.2={second}"],
            adjust: options => options with
            {
                Concurrency = new ConcurrencyOptions
                {
                    DefaultLimit = limit,
                    QueueLength = queueLength,
                    QueueTimeout = queueTimeout ?? TimeSpan.FromSeconds(60),
                },
            });
        return Proxy;
    }

    private static ConcurrencyGate GateOf(ProxyUnderTest proxy, int route) =>
        proxy.Server.Routes.Current.Models[0].Backends[route].Gate;

    private static Task WhenWaiting(ConcurrencyGate gate, int count)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(ConcurrencyGate changed)
        {
            if (changed.Waiting == count && reached.TrySetResult())
            {
                changed.QueueChanged -= OnChanged;
            }
        }

        gate.QueueChanged += OnChanged;
        OnChanged(gate);
        return reached.Task;
    }

    private static async Task<HttpResponseMessage> OpenChatAsync(ProxyUnderTest proxy)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2"}""") };
        return await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
    }

    private static StreamScript Held(out StreamGate release)
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":"a"},"done":false}"""));
        script.AddGated(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":""},"done":true}"""), out release);
        return script;
    }
}
