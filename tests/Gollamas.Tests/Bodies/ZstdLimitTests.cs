using System.Net;
using System.Text;
using Gollamas.Config;
using Gollamas.Connections;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// What a zstd body may cost before any server's slot is taken: its decompressed size (a bound
/// far below the body limit), its expansion ratio, the window its frames ask the decoder to
/// keep, and how many are decompressed at once.
/// </summary>
public sealed class ZstdLimitTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;
    private ProxyUnderTest? _proxy;

    public async Task InitializeAsync() => _gpu = await FakeOllamaServer.StartAsync("gpu");

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _gpu.DisposeAsync();
    }

    [Fact]
    public async Task Responses_ZstdBomb_413BeforeItsOutputLeavesTheFirstMebibyte()
    {
        var proxy = await StartAsync();
        var bomb = Zstd.Compress(Json(new string(' ', 16 * 1024 * 1024)));
        bomb.Length.Should().BeLessThan(4 * 1024, "a few KB that would expand to 16 MiB");

        using var response = await PostAsync(proxy, bomb);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":{"message":"zstd body expands more than 100 times; send it uncompressed","type":"api_error","param":null,"code":null}}""");
        proxy.Server.Bodies.Store.SpooledBySize.Should().Be(0, "the output was refused while it was still within the in-memory threshold");
        proxy.Server.Bodies.Store.InMemory.Should().Be(0);
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Responses_ZstdBodyPastTheDecompressedLimit_413NamingIt()
    {
        var proxy = await StartAsync(limits => limits with { MaxDecompressedBytes = 2 * 1024 * 1024 });
        var text = RandomText(3 * 1024 * 1024);

        using var response = await PostAsync(proxy, Zstd.Compress(Json(text)));

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).Should().Contain("request body is larger than 2097152 bytes once decompressed");
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Responses_ZstdFrameWithAWindowOver8MiB_413()
    {
        var proxy = await StartAsync();
        var body = Zstd.Compress(Encoding.UTF8.GetBytes(Json(new string(' ', 16 * 1024 * 1024))), windowLog: 24);

        using var response = await PostAsync(proxy, body);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.Content.ReadAsStringAsync()).Should().Contain("zstd frame needs a window larger than 8 MiB");
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Responses_ZstdBodyOverTheThreshold_ReadFromItsFileDecompressedIntoAnotherAndForwardedWhole()
    {
        var proxy = await StartAsync();
        var json = Json(RandomText(2 * 1024 * 1024));

        using var response = await PostAsync(proxy, Zstd.Compress(json));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        ((await _gpu.WaitForRequestAsync(r => r.Path == "/v1/responses").DefaultTimeout()).BodyText == json).Should().BeTrue();
        proxy.Server.Bodies.Store.SpooledBySize.Should().Be(2, "random base64 compresses to 3/4: the compressed body and its output are both over 1 MiB");
    }

    [Fact]
    public async Task Responses_EveryDecompressionSlotTaken_WaitsInLineUntilOneIsFree()
    {
        var proxy = await StartAsync(limits => limits with { MaxDecompressions = 1 });
        var gate = proxy.Server.Bodies.Decompressions;
        (await gate.EnterAsync(TimeSpan.FromMinutes(1), TimeProvider.System, CancellationToken.None)).Should().Be(GateResult.Entered);
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.QueueChanged += g =>
        {
            if (g.Waiting == 1)
            {
                waiting.TrySetResult();
            }
        };

        var sent = PostAsync(proxy, Zstd.Compress(Json("hi")));
        await waiting.Task.DefaultTimeout();
        _gpu.Requests.Should().BeEmpty();
        gate.Exit();
        using var response = await sent.DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        _gpu.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task Responses_EveryDecompressionSlotTakenAndNoQueue_503WithRetryAfter()
    {
        var proxy = await StartAsync(limits => limits with { MaxDecompressions = 1 }, queueLength: 0);
        (await proxy.Server.Bodies.Decompressions.EnterAsync(TimeSpan.FromMinutes(1), TimeProvider.System, CancellationToken.None)).Should().Be(GateResult.Entered);

        using var response = await PostAsync(proxy, Zstd.Compress(Json("hi")));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter.Should().NotBeNull();
        (await response.Content.ReadAsStringAsync()).Should().Contain("too many zstd-compressed bodies are being read at once");
        _gpu.Requests.Should().BeEmpty();
    }

    // Base64 of seeded random bytes: compresses to about 3/4, far from any ratio bound.
    private static string RandomText(int bytes)
    {
        var random = new byte[bytes];
        new Random(42).NextBytes(random);
        return Convert.ToBase64String(random);
    }

    private static string Json(string input) => $$"""{"model":"llama3.2","input":"{{input}}","stream":false}""";

    private async Task<ProxyUnderTest> StartAsync(Func<LimitOptions, LimitOptions>? limits = null, int? queueLength = null)
    {
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={_gpu.BaseUri}"],
            adjust: options => options with
            {
                Limits = limits is null ? options.Limits : limits(options.Limits),
                Concurrency = queueLength is { } length ? options.Concurrency with { QueueLength = length } : options.Concurrency,
            });
        return _proxy;
    }

    private static async Task<HttpResponseMessage> PostAsync(ProxyUnderTest proxy, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentEncoding.Add("zstd");
        return await proxy.Client.PostAsync("/v1/responses", content);
    }
}
