using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Published;

/// <summary>The admin actions and the status on the Native-AOT binary: the hand-written JSON and the log line as shipped.</summary>
public sealed class AdminBinaryTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;

    public async Task InitializeAsync() => _gpu = await FakeOllamaServer.StartAsync("gpu");

    public async Task DisposeAsync() => await _gpu.DisposeAsync();

    [Fact]
    public async Task Binary_DrainThroughTheAdminApi_StatusShowsIt_AndTheLogNamesTheKey()
    {
        await using var proxy = await RunningBinary.StartAsync(
            new Dictionary<string, string> { ["GOLLAMAS_ADMIN_KEYS"] = "ops=sk-admin-1" },
            "--listen", "127.0.0.1:0", "--connection", $"gpu={_gpu.BaseUri}", "--proxy", "llama3.2=gpu");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer sk-admin-1");
        var logged = proxy.WaitForStderrAsync("Admin key ops: drain connection gpu");

        using var drained = await client.PostAsync("/gollamas/connections/gpu/drain", null);
        var status = await client.GetStringAsync("/gollamas/status");
        using var chat = await client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));
        await logged.DefaultTimeout();

        drained.StatusCode.Should().Be(HttpStatusCode.OK);
        (await drained.Content.ReadAsStringAsync()).Should().Be("""{"connection":"gpu","state":"draining","draining":true,"in_flight":0}""");
        status.Should().Contain("\"id\":\"gpu\"").And.Contain("\"state\":\"draining\"").And.Contain("\"models\":[{\"name\":\"llama3.2\",\"source\":\"configured\"}]");
        chat.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        proxy.Stderr.Should().NotContain("sk-admin-1");
        _gpu.Requests.Should().NotContain(static r => r.Path == "/api/chat");
    }
}
