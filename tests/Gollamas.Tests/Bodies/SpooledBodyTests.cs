using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Gollamas.Bodies;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// Bodies over the in-memory threshold, or arriving once the memory budget for bodies is spent,
/// live in an unlinked temporary file of <c>--body-temp-dir</c>: they reach the server byte for
/// byte (splices included), can be sent again on failover, and leave neither a file nor an open
/// descriptor behind, whatever happens to the request.
/// </summary>
public sealed class SpooledBodyTests : IAsyncLifetime
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("gollamas-spool-");
    private ProxyUnderTest? _proxy;

    private FakeOllamaServer A { get; set; } = null!;

    private FakeOllamaServer B { get; set; } = null!;

    public async Task InitializeAsync()
    {
        A = await FakeOllamaServer.StartAsync("a");
        B = await FakeOllamaServer.StartAsync("b");
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await A.DisposeAsync();
        await B.DisposeAsync();
        _temp.Delete(recursive: true);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Chat_BodyOverTheThreshold_ReachesTheServerByteForByteWithTheAliasAndDefaultsSpliced(bool chunked)
    {
        var proxy = await StartAsync(
            [$"llama3.2={A.BaseUri}"], input: ProxyUnderTest.Flags("--keep-alive", "-1", "--num-ctx", "8192"));
        var body = ImageChat("gpt-4o", 3 * 1024 * 1024);

        using var response = await PostAsync(proxy, "/api/chat", body, chunked);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await A.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout();
        var expected = body.Replace("\"gpt-4o\"", "\"llama3.2\"", StringComparison.Ordinal)[..^1] + ""","keep_alive":-1,"options":{"num_ctx":8192}}""";
        (received.BodyText == expected).Should().BeTrue("only the model name and the two added members differ");
        proxy.Server.Bodies.Store.SpooledBySize.Should().Be(1);
        (await proxy.Client.GetStringAsync("/metrics")).Should().Contain("gollamas_request_bodies_spooled_total{reason=\"size\"} 1\n");
        OpenBodyFiles().Should().Be(0, "the file is closed once the request is done");
    }

    [Fact]
    public async Task Chat_SpooledBodyRefusedByTheFirstRoute_SentWholeToTheSecond()
    {
        A.Map("POST", "/api/show", (context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var proxy = await StartAsync([$"llama3.2={A.BaseUri}", $"llama3.2={B.BaseUri}"]);
        var body = ImageChat("llama3.2", 2 * 1024 * 1024);

        // /api/show loads no model, so no route is preferred for having it loaded: turns
        // alternate, and one of two requests tries a first, then b.
        for (var i = 0; i < 2; i++)
        {
            using var response = await PostAsync(proxy, "/api/show", body, chunked: false);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        A.Requests.Should().ContainSingle().Which.BodyText.Should().Be(body);
        B.Requests.Should().HaveCount(2).And.OnlyContain(r => r.BodyText == body);
        proxy.Server.Bodies.Store.SpooledBySize.Should().Be(2);
    }

    [Fact]
    public async Task Chat_ClientGoneMidBody_NoFileAndNoDescriptorLeft()
    {
        var proxy = await StartAsync([$"llama3.2={A.BaseUri}"]);
        var partial = Encoding.ASCII.GetBytes(ImageChat("llama3.2", 2 * 1024 * 1024)[..(1024 * 1024)]);

        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(proxy.BaseUri.Host, proxy.BaseUri.Port);
            await client.SendAsync(Encoding.ASCII.GetBytes($"POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {4 * 1024 * 1024}\r\n\r\n"));
            await client.SendAsync(partial);
        }

        await proxy.Logs.WaitForAsync(static l => l.Contains("POST /api/chat ", StringComparison.Ordinal)).DefaultTimeout();
        proxy.Server.Bodies.Store.SpooledBySize.Should().Be(1, "the declared length sent the body to a file from its first byte");
        _temp.EnumerateFileSystemInfos().Should().BeEmpty();
        OpenBodyFiles().Should().Be(0);
        A.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_MemoryBudgetSpent_SmallBodyGoesToAFileAndReachesTheServerWhole()
    {
        var proxy = await StartAsync([$"llama3.2={A.BaseUri}"], budget: 0);
        const string body = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}""";

        using var response = await PostAsync(proxy, "/api/chat", body, chunked: true);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await A.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout()).BodyText.Should().Be(body);
        proxy.Server.Bodies.Store.SpooledByBudget.Should().Be(1);
        (await proxy.Client.GetStringAsync("/metrics")).Should().Contain("gollamas_request_bodies_spooled_total{reason=\"budget\"} 1\n");
    }

    [Fact]
    public async Task Chat_BodyTempDirGoneAfterStart_503NotTakenForABrokenBody()
    {
        var proxy = await StartAsync([$"llama3.2={A.BaseUri}"]);
        _temp.Delete(recursive: true);

        using var response = await PostAsync(proxy, "/api/chat", ImageChat("llama3.2", 2 * 1024 * 1024), chunked: false);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"gollamas: no room to keep the request body for now; try again later"}""");
        response.Headers.RetryAfter.Should().NotBeNull();
        proxy.Logs.Lines.Should().Contain(l => l.StartsWith("Error: A request body could not be kept in " + _temp.FullName, StringComparison.Ordinal));
        A.Requests.Should().BeEmpty();
        _temp.Create();
    }

    [Fact]
    public async Task Chat_SpooledBodyThatIsNotJson_400AndNothingForwarded()
    {
        var proxy = await StartAsync([$"llama3.2={A.BaseUri}"]);
        var body = ImageChat("llama3.2", 2 * 1024 * 1024)[..^1];

        using var response = await PostAsync(proxy, "/api/chat", body, chunked: false);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().StartWith("""{"error":"invalid JSON in request body: """);
        A.Requests.Should().BeEmpty();
        proxy.Server.Bodies.Store.SpooledBySize.Should().Be(1);
    }

    [Fact]
    public async Task Transcription_FormOverTheThreshold_RoutedByItsModelWithTheAliasReplaced()
    {
        var proxy = await StartAsync([$"whisper={A.BaseUri}"], aliases: ["whisper-1=whisper"]);
        var audio = new string('x', 2 * 1024 * 1024);
        const string Boundary = "XyZ";
        string Form(string model) =>
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n{audio}\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n{model}\r\n--{Boundary}--\r\n";
        using var content = new ByteArrayContent(Encoding.ASCII.GetBytes(Form("whisper-1")));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");

        using var response = await proxy.Client.PostAsync("/v1/audio/transcriptions", content);

        var received = await A.WaitForRequestAsync(r => r.Path == "/v1/audio/transcriptions").DefaultTimeout();
        (received.BodyText == Form("whisper")).Should().BeTrue("the model part's value is replaced in place, the rest passes as sent");
        proxy.Server.Bodies.Store.SpooledBySize.Should().Be(1);
    }

    private async Task<ProxyUnderTest> StartAsync(string[] proxies, string[]? aliases = null, long budget = BodyStore.DefaultMemoryBudget, Func<ConfigInput, ConfigInput>? input = null)
    {
        _proxy = await ProxyUnderTest.StartAsync(
            proxies,
            aliases: aliases ?? ["gpt-4o=llama3.2"],
            input: input,
            adjust: options => options with { Limits = options.Limits with { BodyTempDirectory = _temp.FullName, BodyMemoryBudget = budget } });
        return _proxy;
    }

    private static async Task<HttpResponseMessage> PostAsync(ProxyUnderTest proxy, string path, string body, bool chunked)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TransferEncodingChunked = chunked;
        return await proxy.Client.SendAsync(request).DefaultTimeout();
    }

    private static string ImageChat(string model, int imageBytes)
    {
        var image = Convert.ToBase64String(Enumerable.Range(0, imageBytes * 3 / 4).Select(static i => (byte)(i * 31 + (i >> 8))).ToArray());
        return $$"""{"model":"{{model}}","messages":[{"role":"user","content":"what is this?","images":["{{image}}"]}],"stream":false}""";
    }

    // An unlinked file stays open as /proc/self/fd/N -> "PATH (deleted)": body files of this test's directory only.
    private int OpenBodyFiles() =>
        new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
            .Select(static fd => fd.LinkTarget)
            .Count(target => target is not null && target.StartsWith(_temp.FullName, StringComparison.Ordinal));
}
