using System.Net;
using System.Net.Http.Headers;
using Gollamas.Config;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Security;

/// <summary>API keys: accepted, refused in the path's error shape, probes exempt, not forwarded.</summary>
public sealed class ApiKeyTests : TwoServersTest, IDisposable
{
    private readonly string _keysFile = Path.Combine(Path.GetTempPath(), $"gollamas-keys-{Guid.NewGuid():N}");

    public void Dispose() => File.Delete(_keysFile);

    [Theory]
    [InlineData("Bearer sk-one")]
    [InlineData("bearer sk-two")]
    [InlineData("Bearer   sk-one  ")]
    public async Task ValidKey_RequestServedAndTheKeyNotPassedOn(string authorization)
    {
        var proxy = await StartAsync(["sk-one", "sk-two"]);

        using var response = await SendAsync(proxy, "/api/chat", authorization);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await A.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout();
        received.Headers.Should().NotContainKey("Authorization");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer sk-three")]
    [InlineData("Bearer sk-on")]
    [InlineData("Bearer sk-one2")]
    [InlineData("Basic c2stb25l")]
    [InlineData("sk-one")]
    public async Task MissingOrWrongKey_401InOllamasShapeAndNothingForwarded(string? authorization)
    {
        var proxy = await StartAsync(["sk-one", "sk-two"]);

        using var response = await SendAsync(proxy, "/api/chat", authorization);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"unauthorized: send a valid API key as 'Authorization: Bearer KEY'"}""");
        A.Requests.Should().BeEmpty();
        proxy.Logs.Lines.Should().Contain(l => l.Contains("missing or wrong API key", StringComparison.Ordinal))
            .And.NotContain(l => l.Contains("sk-", StringComparison.Ordinal), "keys never reach the log");
    }

    [Fact]
    public async Task WrongKeyOnV1_401InTheOpenAiShape()
    {
        var proxy = await StartAsync(["sk-one"]);

        using var response = await SendAsync(proxy, "/v1/chat/completions", "Bearer nope");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":{"message":"unauthorized: send a valid API key as 'Authorization: Bearer KEY'","type":"api_error","param":null,"code":null}}""");
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Probes_NeedNoKey(string path)
    {
        var proxy = await StartAsync(["sk-one"]);
        await proxy.ProbeRoundAsync(); // ready once a server answered

        using var response = await proxy.Client.GetAsync(path);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/api/tags")]
    [InlineData("/api/version")]
    [InlineData("/v1/models")]
    public async Task EveryOtherEndpoint_NeedsTheKey(string path)
    {
        var proxy = await StartAsync(["sk-one"]);

        using var without = await proxy.Client.GetAsync(path);
        using var with = await SendAsync(proxy, path, "Bearer sk-one", HttpMethod.Get);

        without.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        with.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("sk-one")]
    [InlineData("  sk-two ")]
    public async Task AnthropicKeyHeader_RequestServedAndTheKeyNotPassedOn(string key)
    {
        var proxy = await StartAsync(["sk-one", "sk-two"]);

        using var response = await SendAsync(proxy, "/v1/messages", authorization: null, anthropicKey: key);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await A.WaitForRequestAsync(r => r.Path == "/v1/messages").DefaultTimeout();
        received.Headers.Should().NotContainKey("x-api-key");
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(null, "sk-three")]
    [InlineData(null, "")]
    [InlineData("Bearer nope", "sk-three")]
    public async Task WrongKeyOnAnthropicMessages_401InAnthropicsShape(string? authorization, string? anthropicKey)
    {
        var proxy = await StartAsync(["sk-one"]);

        using var response = await SendAsync(proxy, "/v1/messages", authorization, anthropicKey: anthropicKey);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        AnthropicErrorBody.Read(await response.Content.ReadAsStringAsync())
            .Should().Be(("authentication_error", "unauthorized: send a valid API key as 'Authorization: Bearer KEY'"));
        A.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ForwardAuthorization_PassesTheClientsHeaderOn()
    {
        var proxy = await StartAsync(["sk-one"], forward: true);

        using var response = await SendAsync(proxy, "/api/chat", "Bearer sk-one");
        using var anthropic = await SendAsync(proxy, "/v1/messages", authorization: null, anthropicKey: "sk-one");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        anthropic.StatusCode.Should().Be(HttpStatusCode.OK);
        (await A.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout()).Headers["Authorization"].Should().Be("Bearer sk-one");
        (await A.WaitForRequestAsync(r => r.Path == "/v1/messages").DefaultTimeout()).Headers["x-api-key"].Should().Be("sk-one");
    }

    [Fact]
    public async Task NoKeysConfigured_EverythingServedAndAuthorizationPassedOnAsBefore()
    {
        var proxy = await StartAsync([]);

        using var response = await SendAsync(proxy, "/api/chat", "Bearer upstream-token");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await A.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout()).Headers["Authorization"].Should().Be("Bearer upstream-token");
    }

    [Fact]
    public async Task KeysFile_ReadAtStartAndAgainOnReload()
    {
        await File.WriteAllTextAsync(_keysFile, "# team keys\nsk-file-1\n\n");
        var proxy = await StartAsync([], file: _keysFile);

        using (var first = await SendAsync(proxy, "/api/show", "Bearer sk-file-1"))
        {
            first.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await File.WriteAllTextAsync(_keysFile, "sk-file-2\n");
        await ReloadAsync(proxy);

        using var old = await SendAsync(proxy, "/api/show", "Bearer sk-file-1");
        using var current = await SendAsync(proxy, "/api/show", "Bearer sk-file-2");
        old.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        current.StatusCode.Should().Be(HttpStatusCode.OK);
        proxy.Logs.Lines.Should().Contain("Information: API keys re-read from " + _keysFile + ": 1 keys in force");
    }

    [Fact]
    public async Task KeysFileGoneAtReload_KeysInForceStay()
    {
        await File.WriteAllTextAsync(_keysFile, "sk-file-1\n");
        var proxy = await StartAsync([], file: _keysFile);
        File.Delete(_keysFile);

        await proxy.Server.ApiKeys.ReloadAsync().DefaultTimeout();

        using var response = await SendAsync(proxy, "/api/show", "Bearer sk-file-1");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        proxy.Logs.Lines.Should().Contain($"Warning: API keys file {_keysFile} could not be read, the keys in force stay: file not found");
    }

    [Fact]
    public async Task KeysFileCaughtHalfWritten_NotTakenUntilTwoReadsAgree()
    {
        await File.WriteAllTextAsync(_keysFile, "sk-old\n");
        var proxy = await StartAsync([], file: _keysFile);
        var keys = proxy.Server.ApiKeys;
        var firstRead = NextSettle(keys);

        // "echo sk-new-key > keys" caught after part of its write.
        await File.WriteAllTextAsync(_keysFile, "sk-ne");
        var reload = keys.ReloadAsync();
        await firstRead.DefaultTimeout();

        (await StatusAsync(proxy, "sk-ne")).Should().Be(HttpStatusCode.Unauthorized, "a read not yet confirmed is not applied");
        (await StatusAsync(proxy, "sk-old")).Should().Be(HttpStatusCode.OK);

        await File.WriteAllTextAsync(_keysFile, "sk-new-key\n");
        var secondRead = NextSettle(keys);
        proxy.Time.Advance(TimeSpan.FromMilliseconds(100));
        await secondRead.DefaultTimeout();
        (await StatusAsync(proxy, "sk-ne")).Should().Be(HttpStatusCode.Unauthorized, "the second read differed from the first");

        proxy.Time.Advance(TimeSpan.FromMilliseconds(100));
        await reload.DefaultTimeout();

        (await StatusAsync(proxy, "sk-new-key")).Should().Be(HttpStatusCode.OK);
        (await StatusAsync(proxy, "sk-ne")).Should().Be(HttpStatusCode.Unauthorized);
        (await StatusAsync(proxy, "sk-old")).Should().Be(HttpStatusCode.Unauthorized);
        proxy.Logs.Lines.Where(static l => l.Contains("API keys re-read", StringComparison.Ordinal)).Should().ContainSingle();
    }

    [Fact]
    public async Task TwoQuickReloads_TheSecondReadsAfterTheFirstIsApplied_TheLastFileWins()
    {
        await File.WriteAllTextAsync(_keysFile, "sk-1\n");
        var proxy = await StartAsync([], file: _keysFile);
        var keys = proxy.Server.ApiKeys;
        var settles = 0;
        keys.Settling += () => Interlocked.Increment(ref settles);
        var firstRead = NextSettle(keys);
        await File.WriteAllTextAsync(_keysFile, "sk-2\n");
        var first = keys.ReloadAsync();
        await firstRead.DefaultTimeout();

        await File.WriteAllTextAsync(_keysFile, "sk-3\n");
        var second = keys.ReloadAsync();

        Volatile.Read(ref settles).Should().Be(1, "the second reload waits for the first instead of reading beside it");
        await DriveAsync(proxy, second);
        await first.DefaultTimeout();
        (await StatusAsync(proxy, "sk-3")).Should().Be(HttpStatusCode.OK);
        (await StatusAsync(proxy, "sk-2")).Should().Be(HttpStatusCode.Unauthorized);
        (await StatusAsync(proxy, "sk-1")).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task KeysFileEmpty_WarnsThatEveryRequestWillBeRefused()
    {
        await File.WriteAllTextAsync(_keysFile, "# nobody yet\n");
        var proxy = await StartAsync([], file: _keysFile);

        var warning = $"Warning: API keys file {_keysFile} holds no key and no other key is set: every request will be refused";
        proxy.Logs.Lines.Should().ContainSingle(l => l == warning);
        (await StatusAsync(proxy, "anything")).Should().Be(HttpStatusCode.Unauthorized);

        await File.WriteAllTextAsync(_keysFile, "sk-1\n");
        await ReloadAsync(proxy);
        await File.WriteAllTextAsync(_keysFile, string.Empty);
        await ReloadAsync(proxy);

        proxy.Logs.Lines.Count(l => l == warning).Should().Be(2, "once at start, once for the reload that emptied it");
    }

    [Fact]
    public async Task KeysFile_LastLineWithoutNewline_IsAKeyLikeAnyOther()
    {
        // printf and Kubernetes secrets write files without a final newline.
        await File.WriteAllTextAsync(_keysFile, "sk-1");
        var proxy = await StartAsync([], file: _keysFile);
        await File.WriteAllTextAsync(_keysFile, "sk-1\nsk-2");

        await ReloadAsync(proxy);

        (await StatusAsync(proxy, "sk-2")).Should().Be(HttpStatusCode.OK);
    }

    // Reloads the keys file, moving the proxy's clock on at each settle.
    private static Task ReloadAsync(ProxyUnderTest proxy) => DriveAsync(proxy, proxy.Server.ApiKeys.ReloadAsync());

    private static async Task DriveAsync(ProxyUnderTest proxy, Task reload)
    {
        var keys = proxy.Server.ApiKeys;
        void Advance() => proxy.Time.Advance(TimeSpan.FromMilliseconds(100));
        keys.Settling += Advance;
        try
        {
            // A settle that began before the handler was added waits for one move of the clock.
            Advance();
            await reload.DefaultTimeout();
        }
        finally
        {
            keys.Settling -= Advance;
        }
    }

    private static Task NextSettle(Gollamas.Security.ApiKeys keys)
    {
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSettling()
        {
            keys.Settling -= OnSettling;
            settled.TrySetResult();
        }

        keys.Settling += OnSettling;
        return settled.Task;
    }

    private static async Task<HttpStatusCode> StatusAsync(ProxyUnderTest proxy, string key)
    {
        using var response = await SendAsync(proxy, "/api/show", "Bearer " + key);
        return response.StatusCode;
    }

    private async Task<ProxyUnderTest> StartAsync(string[] keys, bool forward = false, string? file = null)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={A.BaseUri}"],
            adjust: options => options with
            {
                Security = new SecurityOptions { ApiKeys = keys, ApiKeysFile = file, ForwardAuthorization = forward },
            });
        return Proxy;
    }

    private static async Task<HttpResponseMessage> SendAsync(ProxyUnderTest proxy, string path, string? authorization, HttpMethod? method = null, string? anthropicKey = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, path);
        if (request.Method == HttpMethod.Post)
        {
            request.Content = new StringContent("""{"model":"llama3.2","stream":false}""");
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (anthropicKey is not null)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", anthropicKey);
        }

        return await proxy.Client.SendAsync(request);
    }
}
