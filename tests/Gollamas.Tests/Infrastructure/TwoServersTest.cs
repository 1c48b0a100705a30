using Gollamas.Tests.Fakes;

namespace Gollamas.Tests.Infrastructure;

/// <summary>
/// Base of the tests that put one proxy in front of two fake Ollama servers, <c>a</c> and
/// <c>b</c>: starts both before each test, stops the proxy (if the test started one) and both after.
/// </summary>
public abstract class TwoServersTest : IAsyncLifetime
{
    protected FakeOllamaServer A { get; private set; } = null!;

    protected FakeOllamaServer B { get; private set; } = null!;

    /// <summary>The proxy the test started, stopped after it.</summary>
    internal ProxyUnderTest? Proxy { get; set; }

    public async Task InitializeAsync()
    {
        A = await FakeOllamaServer.StartAsync("a");
        B = await FakeOllamaServer.StartAsync("b");
        Arrange();
    }

    public async Task DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        await A.DisposeAsync();
        await B.DisposeAsync();
    }

    /// <summary>What every test of the class sets on the fakes before it runs.</summary>
    protected virtual void Arrange()
    {
    }

    /// <summary>
    /// A chat stream that sends its first line (content <c>a</c>) at once and holds back the last
    /// one (<c>done</c>) until the test opens <paramref name="release"/>.
    /// </summary>
    protected static StreamScript HeldChat(out StreamGate release)
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":"a"},"done":false}"""));
        script.AddGated(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":""},"done":true}"""), out release);
        return script;
    }

    /// <summary>Sends a chat for llama3.2 to <paramref name="proxy"/> and returns once the response headers arrived, the body still unread.</summary>
    private protected static async Task<HttpResponseMessage> OpenChatAsync(ProxyUnderTest proxy)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2"}""") };
        return await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
    }

    /// <summary>
    /// Maps a <see cref="HeldChat"/> on a and on b and sends two chats through <paramref name="proxy"/>,
    /// the second once the first reached a server: returns once both servers are answering one.
    /// </summary>
    private protected async Task<HeldChatOnEach> OpenHeldChatOnEachServerAsync(ProxyUnderTest proxy)
    {
        var onA = HeldChat(out var releaseA);
        var onB = HeldChat(out var releaseB);
        A.MapScript("POST", "/api/chat", onA);
        B.MapScript("POST", "/api/chat", onB);

        var first = await OpenChatAsync(proxy);
        await Task.WhenAny(onA.Started, onB.Started).DefaultTimeout();
        var second = await OpenChatAsync(proxy);
        await Task.WhenAll(onA.Started, onB.Started).DefaultTimeout();
        return new HeldChatOnEach(onA, releaseA, onB, releaseB, first, second);
    }

    /// <summary>
    /// Two chats held open, one by a (<see cref="OnA"/>) and one by b (<see cref="OnB"/>), each until
    /// the test opens its gate; disposing it disposes both responses.
    /// </summary>
    private protected sealed record HeldChatOnEach(
        StreamScript OnA,
        StreamGate ReleaseA,
        StreamScript OnB,
        StreamGate ReleaseB,
        HttpResponseMessage First,
        HttpResponseMessage Second) : IDisposable
    {
        public void Dispose()
        {
            First.Dispose();
            Second.Dispose();
        }
    }
}
