using System.Text.Json;

namespace Gollamas.Tests.Infrastructure;

/// <summary>Reads the error bodies Anthropic's Messages API (and Ollama's /v1/messages, and the proxy there) answers with.</summary>
internal static class AnthropicErrorBody
{
    /// <summary>The error type and message of an Anthropic error body, after checking its fixed parts and request id.</summary>
    public static (string Type, string Message) Read(string body)
    {
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        root.GetProperty("type").GetString().Should().Be("error");
        root.GetProperty("request_id").GetString().Should().MatchRegex("^req_[0-9a-f]{24}$");
        root.EnumerateObject().Select(static p => p.Name).Should().Equal("type", "error", "request_id");
        var error = root.GetProperty("error");
        error.EnumerateObject().Select(static p => p.Name).Should().Equal("type", "message");
        return (error.GetProperty("type").GetString()!, error.GetProperty("message").GetString()!);
    }
}
