using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Published;

/// <summary>The Native-AOT binary, as a user runs it: real process, real flags, real signals.</summary>
public sealed class PublishedBinaryTests : IAsyncLifetime
{
    private FakeOllamaServer _gpu = null!;
    private FakeOllamaServer _cpu = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _cpu = await FakeOllamaServer.StartAsync("cpu");
        _gpu.Models = [new FakeModel("llama3.2:latest")];
        _cpu.Models = [new FakeModel("nomic-embed-text:latest") { ModifiedAt = "2026-01-01T00:00:00Z" }];
    }

    public async Task DisposeAsync()
    {
        await _gpu.DisposeAsync();
        await _cpu.DisposeAsync();
    }

    [Fact]
    public async Task Binary_AgainstTwoServers_RoutesStreamsMergesAndStopsCleanlyOnSigterm()
    {
        await using var proxy = await RunningBinary.StartAsync(
            "--listen", "127.0.0.1:0",
            "--proxy", $"llama3.2={_gpu.BaseUri}",
            "--connection", $"cpu={_cpu.BaseUri}",
            "--proxies", "nomic-embed-text=cpu",
            "--alias", "gpt-4o=llama3.2");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };

        (await client.GetStringAsync("/")).Should().Be("Ollama is running");

        using var chat = await client.PostAsync("/api/chat", new StringContent("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"""));
        chat.StatusCode.Should().Be(HttpStatusCode.OK);
        chat.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        var lines = (await chat.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(_gpu.ChunkCount + 1);
        lines[^1].Should().Contain("\"done\":true");
        (await _gpu.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout()).BodyText.Should().Contain("\"model\":\"llama3.2\"");

        using var embed = await client.PostAsync("/api/embed", new StringContent("""{"model":"nomic-embed-text","input":"x"}"""));
        embed.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _cpu.WaitForRequestAsync(r => r.Path == "/api/embed").DefaultTimeout()).Should().NotBeNull();

        var tags = await client.GetStringAsync("/api/tags");
        tags.IndexOf("nomic-embed-text:latest", StringComparison.Ordinal).Should().BeLessThan(tags.IndexOf("llama3.2:latest", StringComparison.Ordinal)).And.BeGreaterThan(0);

        proxy.Terminate();
        (await proxy.WaitForExitAsync()).Should().Be(0);
        proxy.Stderr.Should().Contain("Route llama3.2 -> ").And.Contain("Alias gpt-4o -> llama3.2");
    }

    [Fact]
    public async Task Binary_LifecycleSettingsFromVariables_PreloadsAndRewritesBodies()
    {
        await using var proxy = await RunningBinary.StartAsync(
            new Dictionary<string, string>
            {
                ["GOLLAMAS_PRELOAD"] = "gpt-4o",
                ["GOLLAMAS_FORCE_NUM_CTX"] = "llama3.2=8192",
                ["GOLLAMAS_KEEP_ALIVE"] = "30m",
            },
            "--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}", "--alias", "gpt-4o=llama3.2");
        var loaded = proxy.WaitForStderrAsync("Model llama3.2 loaded on ");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };

        var preload = await _gpu.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout();
        await loaded.DefaultTimeout();
        using var chat = await client.PostAsync("/api/chat", new StringContent("""{"model":"gpt-4o","options":{"num_ctx":2048},"stream":false}"""));

        preload.BodyText.Should().Be("""{"model":"llama3.2","keep_alive":1800,"options":{"num_ctx":8192}}""");
        chat.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _gpu.WaitForRequestAsync(static r => r.Path == "/api/chat").DefaultTimeout()).BodyText
            .Should().Be("""{"model":"llama3.2","options":{"num_ctx":8192},"stream":false,"keep_alive":1800}""");
        proxy.Terminate();
        (await proxy.WaitForExitAsync()).Should().Be(0);
    }

    [Fact]
    public async Task Binary_SigtermDuringStreams_OneFinishesTheOtherIsCutInBandAndTheExitIs0()
    {
        var finishing = new StreamScript();
        finishing.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":"a"},"done":false}"""));
        finishing.AddGated(StreamScript.NdjsonLine("""{"model":"llama3.2","message":{"content":""},"done":true}"""), out var finish);
        var endless = new StreamScript();
        endless.Add(StreamScript.NdjsonLine("""{"model":"llama3.2","response":"a","done":false}"""));
        endless.AddGated(StreamScript.NdjsonLine("""{"model":"llama3.2","response":"","done":true}"""), out _);
        _gpu.MapScript("POST", "/api/chat", finishing);
        _gpu.MapScript("POST", "/api/generate", endless);
        await using var proxy = await RunningBinary.StartAsync(
            "--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}", "--drain-timeout", "2s");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
        using var chat = await OpenAsync(client, "/api/chat");
        using var generate = await OpenAsync(client, "/api/generate");
        using var chatReader = new StreamReader(await chat.Content.ReadAsStreamAsync());
        using var generateReader = new StreamReader(await generate.Content.ReadAsStreamAsync());
        (await chatReader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"a\"");
        (await generateReader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"a\"");

        proxy.Terminate();
        finish.Open();

        (await chatReader.ReadLineAsync().DefaultTimeout()).Should().Contain("\"done\":true");
        (await chatReader.ReadLineAsync().DefaultTimeout()).Should().BeNull();
        (await generateReader.ReadLineAsync().DefaultTimeout()).Should().Be("""{"error":"gollamas is shutting down: the stream was cut at the end of the drain timeout"}""");
        (await generateReader.ReadLineAsync().DefaultTimeout()).Should().BeNull();
        (await proxy.WaitForExitAsync()).Should().Be(0);
    }

    [Fact]
    public async Task Binary_CompatEndpoints_ZstdResponsesBodyMultipartTranscriptionAndAnthropicErrors()
    {
        _gpu.Map("POST", "/v1/audio/transcriptions", static (context, _) =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("""{"text":"hello"}""");
        });
        await using var proxy = await RunningBinary.StartAsync(
            "--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}", "--alias", "gpt-4o=llama3.2", "--api-key", "sk-one");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
        client.DefaultRequestHeaders.TryAddWithoutValidation("x-api-key", "sk-one");

        var compressed = new ByteArrayContent(Zstd.Compress("""{"model":"gpt-4o","input":"hi"}"""));
        compressed.Headers.ContentEncoding.Add("zstd");
        using var responses = await client.PostAsync("/v1/responses", compressed);
        var form = new ByteArrayContent(Encoding.ASCII.GetBytes("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4o\r\n--b--\r\n"));
        form.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
        using var transcription = await client.PostAsync("/v1/audio/transcriptions", form);
        using var messages = await client.PostAsync("/v1/messages", new StringContent("""{"model":"claude-x","max_tokens":8}"""));

        responses.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _gpu.WaitForRequestAsync(r => r.Path == "/v1/responses").DefaultTimeout()).BodyText.Should().Be("""{"model":"llama3.2","input":"hi"}""");
        transcription.StatusCode.Should().Be(HttpStatusCode.OK);
        (await _gpu.WaitForRequestAsync(r => r.Path == "/v1/audio/transcriptions").DefaultTimeout()).BodyText.Should().Contain("\r\n\r\nllama3.2\r\n--b--");
        messages.StatusCode.Should().Be(HttpStatusCode.NotFound);
        AnthropicErrorBody.Read(await messages.Content.ReadAsStringAsync()).Should().Be(("not_found_error", "model 'claude-x' not found"));
    }

    [Fact]
    public async Task Binary_ForeignHostRefusedAndAHostileModelNameLoggedEscaped()
    {
        await using var proxy = await RunningBinary.StartAsync("--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
        var logged = proxy.WaitForStderrAsync(@"model=llama\x0d\x0aINFO: forged\x1b[31m\x85\u2028 ");

        // The start-up model check's own read of the list, before the refused request.
        await _gpu.WaitForRequestAsync(static r => r.Path == "/api/tags").DefaultTimeout();
        using var foreign = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        foreign.Headers.Host = "attacker.example:11434";

        using var refused = await client.SendAsync(foreign);
        using var hostile = await client.PostAsync("/api/chat", new StringContent("""{"model":"llama\r\nINFO: forged\u001b[31m\u0085\u2028"}"""));

        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync()).Should().Be(
            """{"error":"forbidden: this server answers only its local names; start gollamas with --allowed-hosts NAME to serve another"}""");
        _gpu.Requests.Count(static r => r.Path == "/api/tags").Should().Be(1, "the refused request was not passed on");
        hostile.StatusCode.Should().Be(HttpStatusCode.NotFound);
        await logged.DefaultTimeout();
        proxy.Stderr.Should().NotContainAny("\u001b", "\u0085", "\u2028");
        proxy.Stderr.Split('\n').Should().NotContain(static line => line.StartsWith("INFO: forged", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Binary_LargeBody_KeptInAnUnlinkedFileAndForwardedWithItsSplices()
    {
        var temp = Directory.CreateTempSubdirectory("gollamas-published-bodies-");
        try
        {
            await using var proxy = await RunningBinary.StartAsync(
                new Dictionary<string, string> { ["GOLLAMAS_BODY_TEMP_DIR"] = temp.FullName },
                "--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}", "--alias", "gpt-4o=llama3.2", "--keep-alive", "5m");
            using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
            var image = new string('A', 16 * 1024 * 1024);
            var body = $$"""{"model":"gpt-4o","messages":[{"role":"user","content":"what is it?","images":["{{image}}"]}],"stream":false}""";

            using var response = await client.PostAsync("/api/chat", new StringContent(body, Encoding.UTF8, "application/json"));
            var metrics = await client.GetStringAsync("/metrics");

            response.StatusCode.Should().Be(HttpStatusCode.OK);
            var received = _gpu.Requests.Should().ContainSingle(static r => r.Path == "/api/chat").Which.BodyText;
            received.Should().Be(body.Replace("\"gpt-4o\"", "\"llama3.2\"", StringComparison.Ordinal)[..^1] + ",\"keep_alive\":300}");
            metrics.Should().Contain("gollamas_request_bodies_spooled_total{reason=\"size\"} 1");
            temp.EnumerateFileSystemInfos().Should().BeEmpty("the body's file is unlinked as soon as it is opened");
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Binary_StreamedChat_FinalChunkStatisticsAndTimeToFirstTokenInMetrics()
    {
        await using var proxy = await RunningBinary.StartAsync("--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
        var logged = proxy.WaitForStderrAsync("POST /api/chat 200");
        var labels = $"model=\"llama3.2\",connection=\"{_gpu.BaseUri.Authority}\"";

        using (var chat = await client.PostAsync("/api/chat", new StringContent("""{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""")))
        {
            (await chat.Content.ReadAsStringAsync()).Should().Contain("\"load_duration\":534986708");
        }

        await logged.DefaultTimeout();
        var metrics = (await client.GetStringAsync("/metrics")).Split('\n');

        metrics.Should().Contain($"gollamas_cold_loads_total{{{labels}}} 1");
        metrics.Should().Contain($"gollamas_load_duration_seconds_sum{{{labels}}} 0.534986");
        metrics.Should().Contain($"gollamas_prompt_eval_tokens_total{{{labels}}} 26");
        metrics.Should().Contain($"gollamas_prompt_eval_seconds_total{{{labels}}} 0.107345");
        metrics.Should().Contain($"gollamas_eval_seconds_total{{{labels}}} 4.289432");
        metrics.Should().Contain($"gollamas_time_to_first_token_seconds_count{{{labels}}} 1");
    }

    [Fact]
    public async Task Binary_Metrics_TheBuildAndTheProcessFromProc()
    {
        await using var proxy = await RunningBinary.StartAsync("--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };

        var metrics = await client.GetStringAsync("/metrics");

        metrics.Should().MatchRegex(@"\ngollamas_build_info\{version=""[^""]+"",commit=""[^""]+""\} 1\n");
        foreach (var name in (string[])["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"])
        {
            metrics.Should().MatchRegex($@"\n{name} [0-9.e+]+\n", "the AOT binary reads /proc as the JIT build does");
        }

        metrics.Should().MatchRegex(@"\nprocess_resident_memory_bytes [1-9][0-9]{6,}\n", "more than a megabyte");
    }

    [Fact]
    public async Task Binary_DeadServer_Answers502NamingTheConnection()
    {
        await using var proxy = await RunningBinary.StartAsync(
            "--listen", "127.0.0.1:0", "--connection", $"gpu9={RawLoopbackServer.ClosedPortUri()}", "--proxy", "llama3.2=gpu9");
        using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };

        using var response = await client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","prompt":"hi"}""", Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should().StartWith("""{"error":"gollamas: Ollama server on connection 'gpu9' is unreachable: """);
    }

    [Fact]
    public async Task Binary_BadConfiguration_ExitsWith2AndOneLineNamingTheValue()
    {
        await using var proxy = await RunningBinary.StartAsync("--proxy", "llama3.2=ftp://host:21");

        (await proxy.WaitForExitAsync()).Should().Be(2);
        proxy.Stderr.Should().Contain("ftp://host:21");
        proxy.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(1);
    }

    private static async Task<HttpResponseMessage> OpenAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"model":"llama3.2"}""") };
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
    }

    [Fact]
    public async Task Binary_Sighup_ReReadsTheApiKeysFile()
    {
        var keys = Path.Combine(Path.GetTempPath(), $"gollamas-keys-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(keys, "sk-before\n");
        try
        {
            await using var proxy = await RunningBinary.StartAsync(
                "--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}", "--api-keys-file", keys);
            using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
            (await StatusWithKeyAsync(client, "sk-before")).Should().Be(HttpStatusCode.OK);

            await File.WriteAllTextAsync(keys, "sk-after\n");
            var reread = proxy.WaitForStderrAsync("API keys re-read from");
            proxy.Signal("HUP");
            await reread.DefaultTimeout();

            (await StatusWithKeyAsync(client, "sk-before")).Should().Be(HttpStatusCode.Unauthorized);
            (await StatusWithKeyAsync(client, "sk-after")).Should().Be(HttpStatusCode.OK);
            proxy.Process.HasExited.Should().BeFalse("SIGHUP must not end the process");
        }
        finally
        {
            File.Delete(keys);
        }
    }

    [Fact]
    public async Task Binary_StartedWithSighupIgnored_SighupStillReReadsTheApiKeysFile()
    {
        // nohup and some supervisors start the process with SIGHUP ignored, which it inherits.
        var keys = Path.Combine(Path.GetTempPath(), $"gollamas-keys-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(keys, "sk-revoked\n");
        try
        {
            await using var proxy = RunningBinary.Start(
                "bash",
                ["-c", "trap '' HUP; exec \"$0\" \"$@\"", await PublishedBinary.PathAsync()],
                "--listen", "127.0.0.1:0", "--proxy", $"llama3.2={_gpu.BaseUri}", "--api-keys-file", keys);
            using var client = new HttpClient { BaseAddress = await proxy.ListeningAsync(), Timeout = TestTimeouts.Default };
            (await StatusWithKeyAsync(client, "sk-revoked")).Should().Be(HttpStatusCode.OK);

            await File.WriteAllTextAsync(keys, "sk-new\n");
            var reread = proxy.WaitForStderrAsync("API keys re-read from");
            proxy.Signal("HUP");
            await reread.DefaultTimeout();

            (await StatusWithKeyAsync(client, "sk-revoked")).Should().Be(HttpStatusCode.Unauthorized);
            (await StatusWithKeyAsync(client, "sk-new")).Should().Be(HttpStatusCode.OK);
        }
        finally
        {
            File.Delete(keys);
        }
    }

    private static async Task<HttpStatusCode> StatusWithKeyAsync(HttpClient client, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/version");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task Binary_PortInUse_Exits3WithOneLine()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;

        await using var proxy = await RunningBinary.StartAsync("--listen", $"127.0.0.1:{port}", "--proxy", $"llama3.2={_gpu.BaseUri}");

        (await proxy.WaitForExitAsync()).Should().Be(3);
        var lines = proxy.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle().Which.Should().Be($"gollamas: cannot listen on 127.0.0.1:{port}: the address is already in use (another process listens there)");
    }

    [Fact]
    public async Task Binary_Check_PrintsOneTableAndAVerdict_Exits1ForAMissingModel()
    {
        await using var binary = await RunningBinary.StartAsync(
            "check", "--connection", $"gpu={_gpu.BaseUri}", "--proxy", "llama3.2=gpu", "--proxy", $"qwen3={_cpu.BaseUri.Authority}");

        (await binary.WaitForExitAsync()).Should().Be(1);
        var lines = binary.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(4);
        lines[0].Should().MatchRegex("^CONNECTION +URL +STATUS +VERSION +MODELS +PROBLEM$");
        lines[1].Should().MatchRegex($"^gpu +{Regex.Escape(_gpu.BaseUri.GetLeftPart(UriPartial.Authority))} +ok +0\\.9\\.6 +1 +-$");
        lines[2].Should().EndWith("ok      0.9.6    1       missing qwen3 (it has nomic-embed-text:latest)");
        lines[3].Should().Be("FAILED: 1 configured model missing.");
        binary.Stderr.Should().Be($"gollamas: --proxy \"qwen3={_cpu.BaseUri.Authority}\": read as http://{_cpu.BaseUri.Authority}");
        _gpu.Requests.Select(static r => r.Path).Should().BeEquivalentTo("/api/version", "/api/tags");
    }

    [Fact]
    public async Task Binary_Version_PrintsVersionCommitAndRid()
    {
        await using var binary = await RunningBinary.StartAsync("--version");

        (await binary.WaitForExitAsync()).Should().Be(0);
        binary.Stdout.Should().MatchRegex(@"^gollamas \d+\.\d+\.\d+\S* \(commit \S+, linux-x64\)$");
    }
}
