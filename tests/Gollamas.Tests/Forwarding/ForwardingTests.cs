using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Forwarding;

public sealed class ForwardingTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;
    private FakeOllamaServer _cpu = null!;
    private ProxyUnderTest _proxy = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _cpu = await FakeOllamaServer.StartAsync("cpu");
        _proxy = await ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={_gpu.BaseUri}", "nomic-embed-text=cpu", "hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M=cpu"],
            connections: [$"cpu={_cpu.BaseUri}"],
            aliases: ["gpt-4o=llama3.2", "text-embedding-3-small=nomic-embed-text"]);
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _gpu.DisposeAsync();
        await _cpu.DisposeAsync();
    }

    [Theory]
    [InlineData("/api/chat", "llama3.2", "gpu")]
    [InlineData("/api/generate", "llama3.2", "gpu")]
    [InlineData("/api/embed", "nomic-embed-text", "cpu")]
    [InlineData("/api/embeddings", "nomic-embed-text", "cpu")]
    [InlineData("/api/show", "nomic-embed-text", "cpu")]
    [InlineData("/api/pull", "llama3.2", "gpu")]
    [InlineData("/v1/chat/completions", "llama3.2", "gpu")]
    [InlineData("/v1/completions", "llama3.2", "gpu")]
    [InlineData("/v1/embeddings", "nomic-embed-text", "cpu")]
    [InlineData("/v1/responses", "llama3.2", "gpu")]
    [InlineData("/v1/messages", "hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M", "cpu")]
    public async Task ModelEndpoint_RoutedModel_ReachesItsServerWithBodyUnchanged(string path, string model, string server)
    {
        var body = $$$"""{"model":"{{{model}}}","stream":false,"think":true,"future_field":{"x":[1,2]}}""";

        using var response = await _proxy.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var target = server == "gpu" ? _gpu : _cpu;
        var other = server == "gpu" ? _cpu : _gpu;
        var received = await target.WaitForRequestAsync(r => r.Path == path).DefaultTimeout();
        received.Method.Should().Be("POST");
        received.BodyText.Should().Be(body);
        other.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("LLAMA3.2")]
    [InlineData("llama3.2:latest")]
    [InlineData("library/llama3.2")]
    [InlineData("registry.ollama.ai/library/llama3.2:latest")]
    [InlineData("Llama3.2:Latest")]
    [InlineData(" llama3.2 ")]
    public async Task Chat_AnySpellingOllamaAccepts_IsRoutedAndForwardedAsSent(string spelling)
    {
        var body = $$"""{"model":"{{spelling}}","stream":false,"messages":[]}""";

        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await _gpu.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout();
        received.BodyText.Should().Be(body);
    }

    [Fact]
    public async Task Chat_Alias_ForwardsConcreteModelAndLeavesEverythingElseByteForByte()
    {
        const string body = """{ "messages" : [{"role":"user","content":"héllo \u00e9 <b>"}], "model" : "gpt-4o" , "options":{"num_ctx":8192},"stream":false}""";

        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await _gpu.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout();
        received.BodyText.Should().Be(body.Replace("\"gpt-4o\"", "\"llama3.2\"", StringComparison.Ordinal));
        received.Headers["Content-Length"].Should().Be(Encoding.UTF8.GetByteCount(received.BodyText).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task OpenAiEmbeddings_Alias_RewritesModelForTheOpenAiEndpoint()
    {
        using var response = await _proxy.Client.PostAsync("/v1/embeddings", new StringContent("""{"input":"x","model":"text-embedding-3-small"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await _cpu.WaitForRequestAsync(r => r.Path == "/v1/embeddings").DefaultTimeout();
        received.BodyText.Should().Be("""{"input":"x","model":"nomic-embed-text"}""");
    }

    [Fact]
    public async Task AnthropicMessages_Alias_RewritesModelAndKeepsTheAnswer()
    {
        using var response = await _proxy.Client.PostAsync("/v1/messages", new StringContent("""{"model":"gpt-4o","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"""));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Contain("\"type\":\"message\"").And.Contain("\"model\":\"llama3.2\"");
        var received = await _gpu.WaitForRequestAsync(r => r.Path == "/v1/messages").DefaultTimeout();
        received.BodyText.Should().Be("""{"model":"llama3.2","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}""");
    }

    [Theory]
    [InlineData("""{"model":"claude-sonnet-4-5","max_tokens":64}""", 404, "not_found_error", "model 'claude-sonnet-4-5' not found")]
    [InlineData("""{"max_tokens":64,"messages":[]}""", 400, "invalid_request_error", "model is required")]
    [InlineData("[1]", 400, "invalid_request_error", "request body must be a JSON object")]
    public async Task AnthropicMessages_BadOrUnknownModel_AnthropicErrorAndNothingForwarded(string body, int status, string type, string message)
    {
        using var response = await _proxy.Client.PostAsync("/v1/messages", new StringContent(body));

        ((int)response.StatusCode).Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        AnthropicErrorBody.Read(await response.Content.ReadAsStringAsync()).Should().Be((type, message));
        _gpu.Requests.Should().BeEmpty();
        _cpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task AnthropicMessages_Streaming_NamedEventsReachTheClientAsSent()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = new StringContent("""{"model":"llama3.2","max_tokens":64,"stream":true}""") };
        using var response = await _proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var text = await response.Content.ReadAsStringAsync();
        text.Should().StartWith("event: content_block_delta\ndata: {\"type\":\"content_block_delta\"")
            .And.EndWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }

    [Theory]
    [InlineData(
        "/v1/messages",
        "content_block_delta",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}""",
        """data: {"type":"error","error":{"type":"api_error","message":"gollamas: the stream from the Ollama server on connection """,
        "\"}}")]
    [InlineData(
        "/v1/responses",
        "response.output_text.delta",
        """{"type":"response.output_text.delta","delta":"a"}""",
        """data: {"type":"error","code":"api_error","message":"gollamas: the stream from the Ollama server on connection """,
        "\",\"param\":null}")]
    public async Task NamedEventStream_ServerCutsIt_ClientGetsAnErrorEventInTheApisShape(string path, string eventName, string data, string errorStart, string errorEnd)
    {
        var script = new StreamScript("text/event-stream");
        script.Add($"event: {eventName}\ndata: {data}\n\n");
        script.AbortAfter(0, out var cut);
        _gpu.MapScript("POST", path, script);

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"model":"gpt-4o","stream":true}""") };
        using var response = await _proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Be($"event: {eventName}");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Be($"data: {data}");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().BeEmpty();
        cut.Open();

        (await reader.ReadLineAsync().DefaultTimeout()).Should().Be("event: error");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().StartWith(errorStart).And.EndWith(errorEnd);
        (await reader.ReadToEndAsync().DefaultTimeout()).Should().Be("\n");
    }

    [Theory]
    [InlineData("nomic-embed-text", "nomic-embed-text", "cpu")]
    [InlineData("gpt-4o", "llama3.2", "gpu")]
    public async Task Transcription_RoutedByTheFormsModelField_AnAliasReplacedInPlaceAndTheRestByteForByte(string sent, string forwarded, string server)
    {
        var target = server == "gpu" ? _gpu : _cpu;
        target.Map("POST", "/v1/audio/transcriptions", static (context, _) =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("""{"text":"hello"}""");
        });
        const string contentType = "multipart/form-data; boundary=----gollamas-test";

        using var response = await _proxy.Client.PostAsync("/v1/audio/transcriptions", Form(contentType, sent));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"text":"hello"}""");
        var received = await target.WaitForRequestAsync(r => r.Path == "/v1/audio/transcriptions").DefaultTimeout();
        received.Body.Should().Equal(await Form(contentType, forwarded).ReadAsByteArrayAsync());
        received.Headers["Content-Type"].Should().Be(contentType);
        received.Headers["Content-Length"].Should().Be(received.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("/v1/audio/transcriptions", "multipart/form-data; boundary=b", "whisper-9", 404, "model 'whisper-9' not found", "not_found_error")]
    [InlineData("/v1/audio/transcriptions", "multipart/form-data; boundary=b", "", 400, "model is required", "invalid_request_error")]
    [InlineData("/v1/audio/transcriptions", "application/json", "llama3.2", 400, "failed to parse multipart form: request Content-Type isn't multipart/form-data", "invalid_request_error")]
    [InlineData("/v1/audio/transcriptions?model=llama3.2", "multipart/form-data; boundary=b", "llama3.2", 400, "gollamas: send the model as a form field, not in the query string", "invalid_request_error")]
    public async Task Transcription_NoUsableModel_OpenAiErrorAndNothingForwarded(string path, string contentType, string model, int status, string message, string type)
    {
        using var response = await _proxy.Client.PostAsync(path, Form(contentType.Replace("boundary=b", "boundary=----gollamas-test", StringComparison.Ordinal), model));

        ((int)response.StatusCode).Should().Be(status);
        (await response.Content.ReadAsStringAsync()).Should().Be($$$"""{"error":{"message":"{{{message}}}","type":"{{{type}}}","param":null,"code":null}}""");
        _gpu.Requests.Should().BeEmpty();
        _cpu.Requests.Should().BeEmpty();
    }

    /// <summary>A transcription form as the OpenAI SDKs send it: the audio file, then the model and a language.</summary>
    private static ByteArrayContent Form(string contentType, string model)
    {
        var body = Encoding.UTF8.GetBytes(
            "------gollamas-test\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
            + "RIFF\u0001\u0002 not really audio\r\n"
            + $"------gollamas-test\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n{model}\r\n"
            + "------gollamas-test\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n"
            + "------gollamas-test--\r\n");
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    [Fact]
    public async Task Chat_EscapedAndDuplicatedModelKeys_RoutedOnTheLastOneAsOllamaReadsIt()
    {
        // Go's decoder matches keys case-insensitively and keeps the last duplicate.
        const string body = """{"model":"llama3.2","MODEL":"nomic-embed-text","stream":false}""";

        using var response = await _proxy.Client.PostAsync("/api/embed", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _cpu.WaitForRequestAsync(r => r.Path == "/api/embed").DefaultTimeout()).BodyText.Should().Be(body);
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Embed_ModelKeyWrittenWithEscapes_IsUnescapedBeforeLookup()
    {
        const string body = """{"\u006dodel":"nomic-embed-te\u0078t","input":"x"}""";

        using var response = await _proxy.Client.PostAsync("/api/embed", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _cpu.WaitForRequestAsync(r => r.Path == "/api/embed").DefaultTimeout()).BodyText.Should().Be(body);
    }

    [Fact]
    public async Task Pull_DeprecatedNameKey_IsUsedWhenModelIsEmpty()
    {
        const string body = """{"model":"","name":"hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M","stream":false}""";

        using var response = await _proxy.Client.PostAsync("/api/pull", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _cpu.WaitForRequestAsync(r => r.Path == "/api/pull").DefaultTimeout()).BodyText.Should().Be(body);
    }

    [Fact]
    public async Task Chat_NameKeyOnly_IsNotAModelForChat()
    {
        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent("""{"name":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"model is required"}""");
        _gpu.Requests.Should().BeEmpty();
    }

    [Theory]
    [InlineData("/api/chat", """{"model":"mistral"}""", 404, """{"error":"model 'mistral' not found"}""")]
    [InlineData("/api/generate", """{"prompt":"hi"}""", 400, """{"error":"model is required"}""")]
    [InlineData("/api/generate", """{"model":null}""", 400, """{"error":"model is required"}""")]
    [InlineData("/api/generate", """{"model":""}""", 400, """{"error":"model is required"}""")]
    [InlineData("/api/generate", "", 400, """{"error":"missing request body"}""")]
    [InlineData("/api/generate", "[1,2]", 400, """{"error":"request body must be a JSON object"}""")]
    [InlineData("/api/generate", """{"model":42}""", 400, """{"error":"model must be a string"}""")]
    [InlineData("/api/show", """{"name":["x"]}""", 400, """{"error":"model (or name) must be a string"}""")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-5"}""", 404, """{"error":{"message":"model 'gpt-5' not found; did you mean gpt-4o?","type":"not_found_error","param":null,"code":null}}""")]
    [InlineData("/v1/chat/completions", """{"messages":[]}""", 400, """{"error":{"message":"model is required","type":"invalid_request_error","param":null,"code":null}}""")]
    [InlineData("/v1/responses", """{"model":"gpt-5","input":"hi"}""", 404, """{"error":{"message":"model 'gpt-5' not found; did you mean gpt-4o?","type":"not_found_error","param":null,"code":null}}""")]
    public async Task ModelEndpoint_BadOrUnknownModel_ClearErrorInThePathsShapeAndNothingForwarded(string path, string body, int status, string error)
    {
        using var response = await _proxy.Client.PostAsync(path, new StringContent(body));

        ((int)response.StatusCode).Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.Content.ReadAsStringAsync()).Should().Be(error);
        _gpu.Requests.Should().BeEmpty();
        _cpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_MalformedJson_Returns400WithTheParsersMessage()
    {
        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","""));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().StartWith("""{"error":"invalid JSON in request body: """);
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_TrailingDataAfterTheObject_IsIgnoredAsOllamaDoes()
    {
        const string body = """{"model":"llama3.2","stream":false} trailing""";

        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _gpu.WaitForRequestAsync().DefaultTimeout()).BodyText.Should().Be(body);
    }

    [Fact]
    public async Task Chat_UpstreamError_PassesThroughUnchanged()
    {
        _gpu.UnknownModels.Add("llama3.2");

        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'llama3.2' not found"}""");
    }

    [Fact]
    public async Task Chat_Streaming_EachChunkReachesTheClientBeforeTheServerWritesTheNext()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"role":"assistant","content":"Hel"},"done":false}"""));
        script.AddGated(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"role":"assistant","content":"lo"},"done":false}"""), out var second);
        script.AddGated(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"role":"assistant","content":""},"done":true}"""), out var last);
        _gpu.MapScript("POST", "/api/chat", script);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2"}""") };
        using var response = await _proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"Hel\"");
        script.WhenWritten(1).IsCompletedSuccessfully.Should().BeFalse("the second chunk is still held back");
        second.Open();
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"lo\"");
        last.Open();
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"done\":true");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().BeNull();
    }

    [Fact]
    public async Task Chat_ClientDisconnectsMidStream_UpstreamRequestIsCancelled()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","response":"a","done":false}"""));
        script.AddGated(StreamScript.NdjsonLine("""{"model":"llama3.2","response":"b","done":false}"""), out _);
        _gpu.MapScript("POST", "/api/generate", script);

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = new StringContent("""{"model":"llama3.2"}""") })
        using (var response = await _proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"a\"");
        }

        await script.Aborted.DefaultTimeout();
    }

    [Fact]
    public async Task Chat_ServerCutsTheStreamMidway_ClientGetsAnInBandErrorLineAndTheEnd()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":"a"},"done":false}"""));
        script.AbortAfter(0, out var cut);
        _gpu.MapScript("POST", "/api/chat", script);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent("""{"model":"llama3.2"}""") };
        using var response = await _proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"a\"");
        cut.Open();

        var error = await reader.ReadLineAsync().DefaultTimeout();
        error.Should().StartWith("""{"error":"gollamas: the stream from the Ollama server on connection """).And.Contain("broke");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().BeNull();
        _proxy.Logs.Lines.Should().Contain(l => l.StartsWith("Warning: Stream from Ollama server", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenAiChat_ServerCutsTheSseStream_ClientGetsAnErrorEvent()
    {
        var script = new StreamScript("text/event-stream");
        script.Add(StreamScript.SseData("""{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"a"}}]}"""));
        script.AbortAfter(0, out var cut);
        _gpu.MapScript("POST", "/v1/chat/completions", script);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"gpt-4o","stream":true}""") };
        using var response = await _proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync().DefaultTimeout()).Should().StartWith("data: {\"id\":\"chatcmpl-1\"");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().BeEmpty();
        cut.Open();

        var rest = await reader.ReadToEndAsync().DefaultTimeout();
        rest.Should().StartWith("data: {\"error\":{\"message\":\"gollamas: the stream from the Ollama server on connection ").And.EndWith("\"type\":\"api_error\",\"param\":null,\"code\":null}}\n\n");
    }

    [Fact]
    public async Task OpenAiChat_Streaming_KeepsEventStreamFramingAndHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"gpt-4o","stream":true}""") };
        using var response = await _proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var text = await response.Content.ReadAsStringAsync();
        text.Should().StartWith("data: {").And.EndWith("data: [DONE]\n\n");
        (await _gpu.WaitForRequestAsync().DefaultTimeout()).BodyText.Should().Be("""{"model":"llama3.2","stream":true}""");
    }

    [Fact]
    public async Task Chat_SeveralMegabyteImageBody_ForwardedIntact()
    {
        var image = Convert.ToBase64String(Enumerable.Range(0, 5 * 1024 * 1024).Select(static i => (byte)(i * 31)).ToArray());
        var body = $$$"""{"model":"gpt-4o","stream":false,"messages":[{"role":"user","content":"what is this?","images":["{{{image}}}"]}]}""";

        using var response = await _proxy.Client.PostAsync("/api/chat", new StringContent(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await _gpu.WaitForRequestAsync().DefaultTimeout();
        received.Body.Length.Should().Be(Encoding.UTF8.GetByteCount(body) - "gpt-4o".Length + "llama3.2".Length);
        received.BodyText.Should().Be(body.Replace("\"gpt-4o\"", "\"llama3.2\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Chat_Headers_EndToEndPassHopByHopDoNotAndHostIsTheServers()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat?trace=1") { Content = new StringContent("""{"model":"llama3.2","stream":false}""") };
        request.Headers.Add("X-Request-Id", "abc-123");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-test");
        request.Headers.Add("Proxy-Authorization", "Basic c2VjcmV0");

        using var response = await _proxy.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await _gpu.WaitForRequestAsync().DefaultTimeout();
        received.QueryString.Should().Be("?trace=1");
        received.Headers["X-Request-Id"].Should().Be("abc-123");
        received.Headers["Authorization"].Should().Be("Bearer sk-test");
        received.Headers.Should().NotContainKey("Proxy-Authorization");
        received.Headers["Host"].Should().Be(_gpu.BaseUri.Authority);
        received.Headers.Should().NotContainKey("Transfer-Encoding");
    }
}
