using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Fakes;

public class FakeOllamaServerTests : IAsyncLifetime
{
    private FakeOllamaServer _fake = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeOllamaServer.StartAsync("a");
        // No drain on dispose: a disposed response must cut the connection at once, as a going-away client does.
        _client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, UseProxy = false }) { BaseAddress = _fake.BaseUri };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _fake.DisposeAsync();
    }

    [Fact]
    public async Task Start_BindsLoopbackEphemeralPort_BaseUriReadBack()
    {
        var uri = _fake.BaseUri;

        uri.Host.Should().Be("127.0.0.1");
        uri.Port.Should().BeGreaterThan(0);
        uri.AbsolutePath.Should().Be("/");
        (await _client.GetStringAsync(new Uri("/", UriKind.Relative))).Should().Be("Ollama is running");
    }

    [Fact]
    public async Task Version_Get_ReturnsConfiguredVersionAsGinJson()
    {
        _fake.Version = "0.10.0-rc1";

        using var response = await _client.GetAsync(new Uri("/api/version", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"version":"0.10.0-rc1"}""");
    }

    [Fact]
    public async Task Tags_Get_ListsConfiguredModelsWithDetails()
    {
        _fake.Models = [new FakeModel("llama3.2:latest") { Digest = "abc", Size = 42, ModifiedAt = "2025-01-01T00:00:00Z" }];

        var body = await _client.GetStringAsync(new Uri("/api/tags", UriKind.Relative));

        body.Should().Be("""{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-01-01T00:00:00Z","size":42,"digest":"abc","details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B","quantization_level":"Q4_K_M"}}]}""");
    }

    [Fact]
    public async Task Tags_Head_SendsLengthButNoBody()
    {
        _fake.Models = [new FakeModel("m:latest")];
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri("/api/tags", UriKind.Relative));

        using var response = await _client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.Should().BeGreaterThan(0);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Ps_Get_ListsRunningModelsWithVramAndExpiry()
    {
        _fake.Running = [new FakeModel("mistral:latest") { Size = 10, SizeVram = 5, ContextLength = 8192 }];

        using var document = JsonDocument.Parse(await _client.GetStringAsync(new Uri("/api/ps", UriKind.Relative)));

        var model = document.RootElement.GetProperty("models")[0];
        model.GetProperty("name").GetString().Should().Be("mistral:latest");
        model.GetProperty("size_vram").GetInt64().Should().Be(5);
        model.GetProperty("context_length").GetInt32().Should().Be(8192);
        model.GetProperty("expires_at").GetString().Should().Be(FakeModel.DefaultExpiresAt);
        model.TryGetProperty("modified_at", out _).Should().BeFalse();
    }

    [Fact]
    public async Task Chat_StreamOmitted_WritesNdjsonChunksEchoingModelThenDone()
    {
        _fake.ChunkCount = 2;

        using var response = await PostJsonAsync("/api/chat", """{"model":"Llama3.2","messages":[]}""");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        lines.Should().HaveCount(4);
        lines[0].Should().Be($$"""{"model":"Llama3.2","created_at":"{{FakeOllamaPayloads.CreatedAt}}","message":{"role":"assistant","content":"tok0"},"done":false}""");
        lines[1].Should().Contain("\"content\":\"tok1\"");
        lines[2].Should().Contain("\"done\":true").And.Contain("\"eval_count\":2");
        lines[3].Should().BeEmpty();
    }

    [Fact]
    public async Task Generate_StreamFalse_ReturnsOneJsonObjectWithWholeResponse()
    {
        using var response = await PostJsonAsync("/api/generate", """{"model":"m","prompt":"hi","stream":false}""");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        document.RootElement.GetProperty("response").GetString().Should().Be("tok0tok1tok2");
        document.RootElement.GetProperty("done").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task OpenAiChat_StreamTrue_WritesSseEventsThenDone()
    {
        _fake.ChunkCount = 1;

        using var response = await PostJsonAsync("/v1/chat/completions", """{"model":"m","messages":[],"stream":true}""");
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n");

        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        events.Should().HaveCount(4);
        events[0].Should().StartWith("data: {").And.Contain("\"content\":\"tok0\"");
        events[1].Should().Contain("\"finish_reason\":\"stop\"");
        events[2].Should().Be("data: [DONE]");
        events[3].Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_UnknownModel_Returns404OllamaError()
    {
        _fake.UnknownModels.Add("nope");

        using var response = await PostJsonAsync("/api/chat", """{"model":"nope"}""");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'nope' not found"}""");
    }

    [Fact]
    public async Task UnknownPath_Returns404PageNotFoundText()
    {
        using var response = await _client.GetAsync(new Uri("/api/nothing", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        (await response.Content.ReadAsStringAsync()).Should().Be("404 page not found");
    }

    [Fact]
    public async Task Requests_RecordMethodPathQueryHeadersAndBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/embed?x=1", UriKind.Relative))
        {
            Content = new StringContent("""{"model":"e","input":"hi"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Test", "yes");

        using var response = await _client.SendAsync(request);
        var recorded = await _fake.WaitForRequestAsync(r => r.Path == "/api/embed").DefaultTimeout();

        (await response.Content.ReadAsStringAsync()).Should().Be("""{"model":"e","embeddings":[[0.1,0.2]]}""");
        recorded.Method.Should().Be("POST");
        recorded.QueryString.Should().Be("?x=1");
        recorded.Headers["x-test"].Should().Be("yes");
        recorded.BodyText.Should().Be("""{"model":"e","input":"hi"}""");
        _fake.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task Map_OverridesDefaultForMethodAndPath()
    {
        _fake.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });

        using var response = await _client.GetAsync(new Uri("/api/version", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
    }

    [Fact]
    public async Task Script_GatedChunk_ArrivesOnlyAfterGateOpens()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"n":1}"""));
        script.AddGated(StreamScript.NdjsonLine("""{"n":2}"""), out var gate);
        _fake.MapScript("POST", "/api/chat", script);

        using var response = await PostJsonAsync("/api/chat", """{"model":"m"}""", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().DefaultTimeout();
        var secondWrittenBeforeGate = script.WhenWritten(1).IsCompletedSuccessfully;
        gate.Open();
        var second = await reader.ReadLineAsync().DefaultTimeout();

        first.Should().Be("""{"n":1}""");
        secondWrittenBeforeGate.Should().BeFalse();
        second.Should().Be("""{"n":2}""");
        (await reader.ReadLineAsync().DefaultTimeout()).Should().BeNull();
        await script.Completed.DefaultTimeout();
        script.Aborted.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task Script_ClientDisposesResponseMidStream_CompletesAborted()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"n":1}"""));
        script.AddGated(StreamScript.NdjsonLine("""{"n":2}"""), out _);
        _fake.MapScript("POST", "/api/generate", script);

        var response = await PostJsonAsync("/api/generate", """{"model":"m"}""", HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync().DefaultTimeout()).Should().Be("""{"n":1}""");
        reader.Dispose();
        response.Dispose();

        await script.Aborted.DefaultTimeout();
        var completed = async () => await script.Completed.DefaultTimeout();
        await completed.Should().ThrowAsync<InvalidOperationException>().WithMessage("*client disconnected*");
    }

    [Fact]
    public async Task Script_AbortAfter_CutsConnectionAndClientReadFails()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"n":1}"""));
        script.Add(StreamScript.NdjsonLine("""{"n":2}"""));
        script.AbortAfter(0, out var cut);
        _fake.MapScript("POST", "/api/chat", script);

        using var response = await PostJsonAsync("/api/chat", """{"model":"m"}""", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().DefaultTimeout();
        cut.Open();
        var rest = async () => await reader.ReadToEndAsync().DefaultTimeout();

        first.Should().Be("""{"n":1}""");
        await rest.Should().ThrowAsync<IOException>();
        await script.Completed.DefaultTimeout();
        script.Aborted.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task Script_AbortAfterWithoutGate_ClientReadFails()
    {
        var script = new StreamScript();
        script.Add(StreamScript.NdjsonLine("""{"n":1}"""));
        script.Add(StreamScript.NdjsonLine("""{"n":2}"""));
        script.Add(StreamScript.NdjsonLine("""{"n":3}"""));
        script.AbortAfter(1);
        _fake.MapScript("POST", "/api/chat", script);

        var exchange = async () =>
        {
            using var response = await PostJsonAsync("/api/chat", """{"model":"m"}""", HttpCompletionOption.ResponseHeadersRead);
            await response.Content.ReadAsStringAsync().DefaultTimeout();
        };

        // Kestrel's abort resets the connection, so even the head may be lost: either step may fail.
        var thrown = await exchange.Should().ThrowAsync<Exception>();
        thrown.Which.Should().Match<Exception>(e => e is IOException || e is HttpRequestException);
        await script.Completed.DefaultTimeout();
        script.WhenWritten(2).IsCompletedSuccessfully.Should().BeFalse();
    }

    [Fact]
    public async Task OpenAiChat_UnknownModel_Returns404OpenAiEnvelope()
    {
        _fake.RejectAllModels = true;

        using var response = await PostJsonAsync("/v1/chat/completions", """{"model":"x","messages":[]}""");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be(
            """{"error":{"message":"model 'x' not found","type":"not_found_error","param":null,"code":null}}""");
    }

    [Fact]
    public async Task Pull_Streamed_EndsWithSuccessStatus()
    {
        using var response = await PostJsonAsync("/api/pull", """{"name":"m"}""");
        var lines = (await response.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        lines[0].Should().Be("""{"status":"pulling manifest"}""");
        lines[^1].Should().Be("""{"status":"success"}""");
    }

    [Fact]
    public async Task Responses_CarryNoServerHeader()
    {
        using var response = await _client.GetAsync(new Uri("/", UriKind.Relative));

        response.Headers.Server.Should().BeEmpty();
    }

    [Fact]
    public async Task WaitForRequest_ServerDisposedFirst_Fails()
    {
        var wait = _fake.WaitForRequestAsync(r => r.Path == "/never");

        await _fake.DisposeAsync();

        var act = async () => await wait.DefaultTimeout();
        await act.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task Raw_TruncatedChunkedResponse_ClientReadFails()
    {
        await using var raw = RawLoopbackServer.Start(static async (stream, cancellationToken) =>
        {
            await RawLoopbackServer.WriteAsciiAsync(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "8\r\n{\"n\":1}\n\r\n",
                cancellationToken);
        });
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(raw.BaseUri, "/api/chat"))
        {
            Content = new StringContent("""{"model":"m"}"""),
        };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync().DefaultTimeout();
        var rest = async () => await reader.ReadToEndAsync().DefaultTimeout();

        first.Should().Be("""{"n":1}""");
        await rest.Should().ThrowAsync<IOException>();
        var recorded = await raw.WaitForRequestAsync().DefaultTimeout();
        recorded.Method.Should().Be("POST");
        recorded.Target.Should().Be("/api/chat");
        recorded.BodyText.Should().Be("""{"model":"m"}""");
    }

    [Fact]
    public async Task Raw_ResetAfterHead_ClientFails()
    {
        await using var raw = RawLoopbackServer.Start(static async (stream, cancellationToken) =>
        {
            await RawLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"n\":", cancellationToken);
            RawLoopbackServer.Reset(stream);
        });
        using var client = new HttpClient();

        var act = async () => await client.GetStringAsync(raw.BaseUri).DefaultTimeout();

        var thrown = await act.Should().ThrowAsync<Exception>();
        thrown.Which.Should().Match<Exception>(e => e is IOException || e is HttpRequestException);
    }

    [Fact]
    public async Task Raw_Silent_RequestArrivesAndNoAnswerUntilCancelled()
    {
        await using var raw = RawLoopbackServer.StartSilent();
        using var client = new HttpClient();
        using var cancel = new CancellationTokenSource();

        var pending = client.GetAsync(new Uri(raw.BaseUri, "/api/tags"), cancel.Token);
        var recorded = await raw.WaitForRequestAsync().DefaultTimeout();
        var answeredBeforeCancel = pending.IsCompleted;
        await cancel.CancelAsync();
        var act = async () => await pending.DefaultTimeout();

        recorded.Target.Should().Be("/api/tags");
        answeredBeforeCancel.Should().BeFalse();
        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Raw_ClosedPort_ConnectionRefused()
    {
        using var client = new HttpClient();

        var act = async () => await client.GetAsync(RawLoopbackServer.ClosedPortUri()).DefaultTimeout();

        var thrown = await act.Should().ThrowAsync<HttpRequestException>();
        thrown.Which.InnerException.Should().BeOfType<SocketException>()
            .Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
    }

    [Fact]
    public async Task DefaultTimeout_NeverCompletes_ThrowsNamingCallerFileAndLine()
    {
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var act = async () => await never.Task.DefaultTimeout(TimeSpan.FromMilliseconds(50));

        await act.Should().ThrowAsync<TimeoutException>().WithMessage("*FakeOllamaServerTests.cs:*");
    }

    private async Task<HttpResponseMessage> PostJsonAsync(string path, string json, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
        {
            Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        return await _client.SendAsync(request, completion);
    }
}
