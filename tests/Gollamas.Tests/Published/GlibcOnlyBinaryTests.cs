using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Published;

/// <summary>
/// The Native-AOT binary needs only glibc: plain HTTP serving never loads OpenSSL. Where there is
/// no libssl (a minimal host, the arm64 check under qemu) the runtime aborts the process the moment
/// something asks for it, so anything that reaches for it on a request (a cryptographic random
/// number for an id, say) takes the proxy down with its first request.
/// </summary>
public sealed class GlibcOnlyBinaryTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;

    public async Task InitializeAsync() => _gpu = await FakeOllamaServer.StartAsync("gpu");

    public async Task DisposeAsync() => await _gpu.DisposeAsync();

    [Fact]
    public async Task Binary_ServingPlainHttp_NeverLoadsOpenSsl()
    {
        await using var proxy = await RunningBinary.StartAsync(
            new Dictionary<string, string> { ["GOLLAMAS_API_KEYS"] = "team-a=sk-a-1", ["GOLLAMAS_ADMIN_KEYS"] = "ops=sk-admin-1" },
            "--listen", "127.0.0.1:0", "--connection", $"gpu={_gpu.BaseUri}", "--proxy", "llama3.2=gpu");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer sk-a-1");

        using var healthz = await client.GetAsync("/healthz");
        using var chat = await client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","stream":false}"""));
        using var anthropicError = await client.PostAsync("/v1/messages", new StringContent("""{"model":"nope"}"""));
        using var status = await client.GetAsync("/gollamas/status");
        using var page = await client.GetAsync("/gollamas/");
        using var metrics = await client.GetAsync("/metrics");
        var mapped = await File.ReadAllTextAsync($"/proc/{proxy.Process.Id}/maps");

        healthz.StatusCode.Should().Be(HttpStatusCode.OK);
        chat.StatusCode.Should().Be(HttpStatusCode.OK);
        chat.Headers.GetValues("X-Request-Id").Should().ContainSingle();
        anthropicError.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await anthropicError.Content.ReadAsStringAsync()).Should().Contain("\"request_id\":\"req_");
        status.StatusCode.Should().Be(HttpStatusCode.OK);
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        metrics.StatusCode.Should().Be(HttpStatusCode.OK);
        mapped.Should().NotContain("libssl").And.NotContain("libcrypto", "nothing but HTTPS needs OpenSSL");
        proxy.Process.HasExited.Should().BeFalse();
    }
}
