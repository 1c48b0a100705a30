using System.Net;
using System.Text.Json;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Endpoints;

/// <summary>An unknown model's 404 names the configured models it probably meant, and never echoes a control character.</summary>
public sealed class UnknownModelTests : TwoServersTest
{
    [Theory]
    [InlineData("llama3.2", "model 'llama3.2' not found; did you mean llama3.2:3b?")]
    [InlineData("lama3.2:3b", "model 'lama3.2:3b' not found; did you mean llama3.2:3b?")]
    [InlineData("qwen3:8", "model 'qwen3:8' not found; did you mean qwen3:8b or qwen3:30b?")]
    [InlineData("gpt-4", "model 'gpt-4' not found; did you mean gpt-4o?")]
    [InlineData("mistral", "model 'mistral' not found")]
    [InlineData("llama3.2\u001b[2J:3b", "model 'llama3.2\uFFFD[2J:3b' not found; did you mean llama3.2:3b?")]
    [InlineData("llama3.2\u202e:3b", "model 'llama3.2\uFFFD:3b' not found; did you mean llama3.2:3b?")]
    public async Task Chat_UnknownModel_404NamesTheClosestConfiguredModels(string model, string message)
    {
        Proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2:3b={A.BaseUri}", $"qwen3:8b={B.BaseUri}", $"qwen3:30b={B.BaseUri}"],
            aliases: ["gpt-4o=llama3.2:3b"]);

        using var response = await Proxy.Client.PostAsync("/api/chat", new StringContent($"{{\"model\":\"{JsonEncodedText.Encode(model)}\"}}"));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        body.RootElement.GetProperty("error").GetString().Should().Be(message);
        A.Requests.Should().BeEmpty();
        B.Requests.Should().BeEmpty();
    }
}
