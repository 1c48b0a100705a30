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
}
