using System.Net;
using Gollamas.Config;
using Gollamas.Connections;
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
        using var slot = await HoldTheOnlySlotAsync(queueLength: 4);
        var second = await slot.QueueAsync(1, client => client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}""")));

        A.Requests.Should().NotContain(r => r.Path == "/api/generate", "the only slot is taken");
        slot.Release.Open();
        (await slot.First.Content.ReadAsStringAsync()).Should().Contain("\"done\":true");
        using var answer = await second.DefaultTimeout();
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        A.Requests.Should().Contain(r => r.Path == "/api/generate");
    }

    [Fact]
    public async Task MetadataCalls_NeverWaitForAGenerationSlot()
    {
        using var slot = await HoldTheOnlySlotAsync(queueLength: 4);

        using var show = await slot.Proxy.Client.PostAsync("/api/show", new StringContent("""{"model":"llama3.2"}""")).DefaultTimeout();

        show.StatusCode.Should().Be(HttpStatusCode.OK, "a UI's /api/show is answered while a long generation holds the slot");
        slot.Gate.Waiting.Should().Be(0);
        A.Requests.Should().Contain(r => r.Path == "/api/show");
        slot.Release.Open();
    }

    [Fact]
    public async Task QueueFull_503AtOnceWithRetryAfter()
    {
        using var slot = await HoldTheOnlySlotAsync(queueLength: 1);
        var second = await slot.QueueAsync(1, client => client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}""")));

        using var third = await slot.Proxy.Client.PostAsync("/api/embed", new StringContent("""{"model":"llama3.2","input":"x"}"""));

        third.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        third.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        (await third.Content.ReadAsStringAsync()).Should().Be($$"""{"error":"gollamas: Ollama server on connection 1 is busy: 1 requests in flight and 1 waiting, as many as its queue holds; a new request could wait up to 1m0s (the queue timeout); try again later"}""");
        third.Headers.Contains("X-Gollamas-Queue-Wait").Should().BeFalse("it did not wait");
        A.Requests.Should().NotContain(r => r.Path == "/api/embed");
        (await slot.Proxy.Client.GetStringAsync("/metrics")).Split('\n').Should().Contain($"gollamas_queue_rejections_total{{connection=\"{A.BaseUri.Authority}\",reason=\"full\"}} 1");
        slot.Release.Open();
        using var answer = await second.DefaultTimeout();
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task QueueFull_AfterGenerationsThere_503EstimatesTheWaitFromTheirServiceTime()
    {
        var proxy = await StartAsync(limit: 1, queueLength: 1, A.BaseUri);
        using (var warm = await proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}""")))
        {
            warm.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await proxy.Logs.WaitForAsync(l => l.Contains("POST /api/generate 200", StringComparison.Ordinal)).DefaultTimeout();
        var held = HeldChat(out var release);
        A.MapScript("POST", "/api/chat", held);
        using var first = await OpenChatAsync(proxy);
        await held.Started.DefaultTimeout();
        var queued = WhenWaiting(GateOf(proxy, 0), 1);
        var second = proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));
        await queued.DefaultTimeout();

        using var third = await proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));

        // The fake's final chunk: 0.107345 s of prompt and 4.289432 s of generation, so 4.397 s a
        // slot; one waiting and the newcomer, on one slot: 8.794 s.
        third.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await third.Content.ReadAsStringAsync()).Should().Contain("1 waiting, as many as its queue holds; a new request would wait about 8.794s; try again later");
        release.Open();
        using var answer = await second.DefaultTimeout();
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Queued_AnsweredWithHowLongItWaited_InOllamasDurationFormat_AndCountedInTheWaitHistogram()
    {
        using var slot = await HoldTheOnlySlotAsync(queueLength: 4);
        var second = await slot.QueueAsync(1, client => client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}""")));

        slot.Proxy.Time.Advance(TimeSpan.FromMilliseconds(1250));
        slot.Release.Open();
        using var answer = await second.DefaultTimeout();

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        answer.Headers.GetValues("X-Gollamas-Queue-Wait").Should().Equal("1.25s");
        slot.First.Headers.Contains("X-Gollamas-Queue-Wait").Should().BeFalse("the first found the slot free");
        await slot.Proxy.Logs.WaitForAsync(l => l.Contains("POST /api/generate 200", StringComparison.Ordinal)).DefaultTimeout();
        var lines = (await slot.Proxy.Client.GetStringAsync("/metrics")).Split('\n');
        lines.Should().Contain($"gollamas_queue_wait_seconds_count{{connection=\"{A.BaseUri.Authority}\"}} 1");
        lines.Should().Contain($"gollamas_queue_wait_seconds_sum{{connection=\"{A.BaseUri.Authority}\"}} 1.25");
        lines.Should().Contain($"gollamas_queue_wait_seconds_bucket{{connection=\"{A.BaseUri.Authority}\",le=\"1\"}} 0");
        lines.Should().Contain($"gollamas_queue_wait_seconds_bucket{{connection=\"{A.BaseUri.Authority}\",le=\"2.5\"}} 1");
    }

    [Fact]
    public async Task WaitLongerThanTheQueueTimeout_503AndNothingForwarded()
    {
        using var slot = await HoldTheOnlySlotAsync(queueLength: 1, queueTimeout: TimeSpan.FromSeconds(3));
        var second = await slot.QueueAsync(1, client => client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"llama3.2"}""")));

        slot.Proxy.Time.Advance(TimeSpan.FromSeconds(3));
        using var answer = await second.DefaultTimeout();

        answer.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await answer.Content.ReadAsStringAsync()).Should().Be($$$"""{"error":{"message":"gollamas: waited 3s for the Ollama server on connection 1, still busy; try again later","type":"api_error","param":null,"code":null}}""");
        answer.Headers.GetValues("X-Gollamas-Queue-Wait").Should().Equal("3s");
        (await slot.Proxy.Client.GetStringAsync("/metrics")).Split('\n').Should().Contain($"gollamas_queue_rejections_total{{connection=\"{A.BaseUri.Authority}\",reason=\"timeout\"}} 1");
        slot.Gate.Waiting.Should().Be(0);
        A.Requests.Should().NotContain(r => r.Path == "/v1/chat/completions");
        slot.Release.Open();
    }

    [Fact]
    public async Task ClientLeavesWhileWaiting_LeavesTheQueueAtOnce()
    {
        using var slot = await HoldTheOnlySlotAsync(queueLength: 1);
        using var leaving = new CancellationTokenSource();
        var second = await slot.QueueAsync(1, client => client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""), leaving.Token));

        var left = WhenWaiting(slot.Gate, 0);
        await leaving.CancelAsync();
        await left.DefaultTimeout();

        await FluentActions.Awaiting(() => second).Should().ThrowAsync<OperationCanceledException>();
        slot.Gate.Waiting.Should().Be(0);
        slot.Release.Open();
        (await slot.First.Content.ReadAsStringAsync()).Should().Contain("\"done\":true");
        using var next = await slot.Proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}"""));
        next.StatusCode.Should().Be(HttpStatusCode.OK, "the slot came back when the first stream ended");
        A.Requests.Count(r => r.Path == "/api/generate").Should().Be(1);
    }

    [Fact]
    public async Task Waiting_FirstComeFirstServed()
    {
        using var slot = await HoldTheOnlySlotAsync(queueLength: 2);

        var generate = await slot.QueueAsync(1, client => client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}""")));
        var embed = await slot.QueueAsync(2, client => client.PostAsync("/api/embed", new StringContent("""{"model":"llama3.2","input":"x"}""")));
        slot.Release.Open();
        await Task.WhenAll(generate, embed).DefaultTimeout();

        A.Requests.Select(r => r.Path).Where(p => p != "/api/chat").Should().Equal("/api/generate", "/api/embed");
    }

    [Fact]
    public async Task OneRouteFull_RequestGoesToTheRouteWithAFreeSlotInsteadOfWaiting()
    {
        var proxy = await StartAsync(limit: 1, queueLength: 4, A.BaseUri, B.BaseUri);

        using var chats = await OpenHeldChatOnEachServerAsync(proxy);

        GateOf(proxy, 0).Waiting.Should().Be(0);
        GateOf(proxy, 1).Waiting.Should().Be(0);
        chats.ReleaseA.Open();
        chats.ReleaseB.Open();
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
        proxy.Server.Snapshots.Current.Routes.Models[0].Connections[route].Gate;

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

    /// <summary>
    /// Starts a proxy with a limit of 1 in front of a alone and takes the only slot with a chat that
    /// a holds open: returns once a has started answering it.
    /// </summary>
    private async Task<HeldSlot> HoldTheOnlySlotAsync(int queueLength, TimeSpan? queueTimeout = null)
    {
        var proxy = await StartAsync(limit: 1, queueLength, A.BaseUri, queueTimeout: queueTimeout);
        var gate = GateOf(proxy, 0);
        var held = HeldChat(out var release);
        A.MapScript("POST", "/api/chat", held);
        var first = await OpenChatAsync(proxy);
        await held.Started.DefaultTimeout();
        return new HeldSlot(proxy, gate, first, release);
    }

    /// <summary>
    /// The only slot of a, taken by <see cref="First"/>, a chat that a holds open until the test
    /// opens <see cref="Release"/>; disposing it disposes that response.
    /// </summary>
    private sealed record HeldSlot(ProxyUnderTest Proxy, ConcurrencyGate Gate, HttpResponseMessage First, StreamGate Release) : IDisposable
    {
        /// <summary>
        /// Sends a request with <paramref name="send"/> and returns it, still unanswered, once the gate
        /// counts <paramref name="waiting"/> requests waiting.
        /// </summary>
        public async Task<Task<HttpResponseMessage>> QueueAsync(int waiting, Func<HttpClient, Task<HttpResponseMessage>> send)
        {
            var queued = WhenWaiting(Gate, waiting);
            var response = send(Proxy.Client);
            await queued.DefaultTimeout();
            return response;
        }

        public void Dispose() => First.Dispose();
    }
}
