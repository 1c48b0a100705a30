using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Gollamas.Bodies;

namespace Gollamas.Tests.Bodies;

/// <summary>
/// <see cref="RequestDefaultsSplice"/>: the splices that make Ollama's Go decoder read the configured <c>keep_alive</c> and
/// <c>options.num_ctx</c>, asserted as the exact bytes forwarded (which must still parse as JSON). The rules are
/// encoding/json's (case-insensitive struct keys by foldName, last duplicate wins, null resets a pointer or a map,
/// later option objects merge into the map) and Ollama's (Options.FromMap skips nil values).
/// </summary>
public sealed class RequestDefaultsSpliceTests
{
    private static readonly RequestDefaults s_keepAlive = new("-1", "-1", forceKeepAlive: false, null, forceNumCtx: false);
    private static readonly RequestDefaults s_forceKeepAlive = new("-1", "-1", forceKeepAlive: true, null, forceNumCtx: false);
    private static readonly RequestDefaults s_numCtx = new(null, null, forceKeepAlive: false, 8192, forceNumCtx: false);
    private static readonly RequestDefaults s_forceNumCtx = new(null, null, forceKeepAlive: false, 8192, forceNumCtx: true);

    [Theory]
    [InlineData("""{"model":"m"}""", """{"model":"m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":"5m"}""", """{"model":"m","keep_alive":"5m"}""")]
    [InlineData("""{"model":"m","keep_alive":0}""", """{"model":"m","keep_alive":0}""")]
    [InlineData("""{"model":"m","keep_alive":""}""", """{"model":"m","keep_alive":""}""")] // Ollama's own 400 to give
    [InlineData("""{"model":"m","keep_alive":null}""", """{"model":"m","keep_alive":null,"keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":"5m","keep_alive":null}""", """{"model":"m","keep_alive":"5m","keep_alive":null,"keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":null,"keep_alive":"5m"}""", """{"model":"m","keep_alive":null,"keep_alive":"5m"}""")]
    [InlineData("""{"model":"m","KEEP_ALIVE":"5m"}""", """{"model":"m","KEEP_ALIVE":"5m"}""")]
    [InlineData("""{"model":"m","Keep_Alive":"5m","kEeP_aLiVe":null}""", """{"model":"m","Keep_Alive":"5m","kEeP_aLiVe":null,"keep_alive":-1}""")]
    [InlineData("{\"model\":\"m\",\"\u212Aeep_alive\":\"5m\"}", "{\"model\":\"m\",\"\u212Aeep_alive\":\"5m\"}")] // KELVIN SIGN folds to k
    [InlineData("""{"model":"m","\u212aeep_alive":"5m"}""", """{"model":"m","\u212aeep_alive":"5m"}""")]
    [InlineData("""{"model":"m","keep\u005falive":"5m"}""", """{"model":"m","keep\u005falive":"5m"}""")]
    [InlineData("""{"model":"m","\u006B\u0065\u0065\u0070\u005F\u0061\u006C\u0069\u0076\u0065":1}""", """{"model":"m","\u006B\u0065\u0065\u0070\u005F\u0061\u006C\u0069\u0076\u0065":1}""")]
    [InlineData("""{"model":"m","keepalive":"5m"}""", """{"model":"m","keepalive":"5m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep-alive":"5m"}""", """{"model":"m","keep-alive":"5m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive ":"5m"}""", """{"model":"m","keep_alive ":"5m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive\u0000":"5m"}""", """{"model":"m","keep_alive\u0000":"5m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive\ud800":"5m"}""", """{"model":"m","keep_alive\ud800":"5m","keep_alive":-1}""")] // U+FFFD in Go
    [InlineData("{\"model\":\"m\",\"keep_al\u0130ve\":1}", "{\"model\":\"m\",\"keep_al\u0130ve\":1,\"keep_alive\":-1}")] // İ folds to itself
    [InlineData("{\"model\":\"m\",\"keep_al\u0131ve\":1}", "{\"model\":\"m\",\"keep_al\u0131ve\":1,\"keep_alive\":-1}")] // so does ı
    [InlineData("{\"model\":\"m\",\"k\u0435ep_alive\":1}", "{\"model\":\"m\",\"k\u0435ep_alive\":1,\"keep_alive\":-1}")] // Cyrillic е
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi","keep_alive":"5m"}]}""", """{"model":"m","messages":[{"role":"user","content":"hi","keep_alive":"5m"}],"keep_alive":-1}""")]
    [InlineData("""{"model":"m","options":{"keep_alive":"5m"}}""", """{"model":"m","options":{"keep_alive":"5m"},"keep_alive":-1}""")]
    [InlineData("""{"model":"m","format":{"keep_alive":{"type":"string"}}}""", """{"model":"m","format":{"keep_alive":{"type":"string"}},"keep_alive":-1}""")]
    [InlineData("{ \"model\" : \"m\" \r\n}", "{ \"model\" : \"m\" \r\n,\"keep_alive\":-1}")]
    [InlineData("{\"model\":\"m\"}\n", "{\"model\":\"m\",\"keep_alive\":-1}\n")]
    [InlineData("""{"model":"m"} {"keep_alive":1}""", """{"model":"m","keep_alive":-1} {"keep_alive":1}""")] // Go reads the first value only
    [InlineData("""{}""", """{"keep_alive":-1}""")] // not reachable (there is a model), but still valid JSON
    public void KeepAlive_WhenAbsent_IsAddedLastAtTheTopLevel(string body, string expected)
    {
        AssertRewrite(body, s_keepAlive, expected);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", """{"model":"m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":"5m"}""", """{"model":"m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":"5\u006d"}""", """{"model":"m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":0.5,"stream":false}""", """{"model":"m","keep_alive":-1,"stream":false}""")]
    [InlineData("""{"model":"m", "keep_alive" : 300 , "stream":false}""", """{"model":"m", "keep_alive" : -1 , "stream":false}""")]
    [InlineData("""{"model":"m","keep_alive":true}""", """{"model":"m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":{"a":[1,{"b":2}]},"stream":false}""", """{"model":"m","keep_alive":-1,"stream":false}""")]
    [InlineData("""{"model":"m","keep_alive":[1,2]}""", """{"model":"m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":"1m","KEEP_ALIVE":"5m"}""", """{"model":"m","keep_alive":"1m","KEEP_ALIVE":-1}""")] // the last one is read
    [InlineData("""{"model":"m","keep_alive":"5m","keep_alive":null}""", """{"model":"m","keep_alive":"5m","keep_alive":null,"keep_alive":-1}""")]
    [InlineData("""{"model":"m","keep_alive":-1}""", """{"model":"m","keep_alive":-1}""")]
    [InlineData("""{"model":"m","messages":[{"keep_alive":"5m"}]}""", """{"model":"m","messages":[{"keep_alive":"5m"}],"keep_alive":-1}""")]
    public void KeepAlive_Forced_ReplacesTheValueGoReadsWhateverItsType(string body, string expected)
    {
        AssertRewrite(body, s_forceKeepAlive, expected);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", """{"model":"m","options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"temperature":0}}""", """{"model":"m","options":{"temperature":0,"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{}}""", """{"model":"m","options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{ }}""", """{"model":"m","options":{ "num_ctx":8192}}""")]
    [InlineData("{\"model\":\"m\",\"options\": {\n  \"temperature\": 0\n}\n}", "{\"model\":\"m\",\"options\": {\n  \"temperature\": 0\n,\"num_ctx\":8192}\n}")]
    [InlineData("""{"model":"m","options":{"num_ctx":4096}}""", """{"model":"m","options":{"num_ctx":4096}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":"8k"}}""", """{"model":"m","options":{"num_ctx":"8k"}}""")] // Ollama's own error to give
    [InlineData("""{"model":"m","options":{"num\u005fctx":4096}}""", """{"model":"m","options":{"num\u005fctx":4096}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":null}}""", """{"model":"m","options":{"num_ctx":null,"num_ctx":8192}}""")] // FromMap skips nil
    [InlineData("""{"model":"m","options":{"num_ctx":4096,"num_ctx":null}}""", """{"model":"m","options":{"num_ctx":4096,"num_ctx":null,"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"NUM_CTX":4096}}""", """{"model":"m","options":{"NUM_CTX":4096,"num_ctx":8192}}""")] // map keys are exact
    [InlineData("""{"model":"m","options":{"num_ctx ":4096}}""", """{"model":"m","options":{"num_ctx ":4096,"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"nested":{"num_ctx":4096}}}""", """{"model":"m","options":{"nested":{"num_ctx":4096},"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":null}""", """{"model":"m","options":null,"options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":4096},"options":null}""", """{"model":"m","options":{"num_ctx":4096},"options":null,"options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":null,"options":{"top_k":1}}""", """{"model":"m","options":null,"options":{"top_k":1,"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":4096},"options":null,"options":{}}""", """{"model":"m","options":{"num_ctx":4096},"options":null,"options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":4096},"options":{"top_k":1}}""", """{"model":"m","options":{"num_ctx":4096},"options":{"top_k":1}}""")] // objects merge
    [InlineData("""{"model":"m","options":{"top_k":1},"options":{"seed":2}}""", """{"model":"m","options":{"top_k":1},"options":{"seed":2,"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","OPTIONS":{"num_ctx":4096}}""", """{"model":"m","OPTIONS":{"num_ctx":4096}}""")]
    [InlineData("""{"model":"m","Options":{}}""", """{"model":"m","Options":{"num_ctx":8192}}""")]
    [InlineData("{\"model\":\"m\",\"option\u017F\":{\"num_ctx\":4096}}", "{\"model\":\"m\",\"option\u017F\":{\"num_ctx\":4096}}")] // LONG S folds to s
    [InlineData("""{"model":"m","option\u017f":{}}""", """{"model":"m","option\u017f":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","option":{"num_ctx":4096}}""", """{"model":"m","option":{"num_ctx":4096},"options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","num_ctx":4096}""", """{"model":"m","num_ctx":4096,"options":{"num_ctx":8192}}""")] // ignored at the top level
    [InlineData("""{"model":"m","messages":[{"options":{"num_ctx":1}}]}""", """{"model":"m","messages":[{"options":{"num_ctx":1}}],"options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","format":{"properties":{"options":{"num_ctx":1}}}}""", """{"model":"m","format":{"properties":{"options":{"num_ctx":1}}},"options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":"fast"}""", """{"model":"m","options":"fast"}""")] // Ollama answers 400 whatever is added
    [InlineData("""{"model":"m","options":[{"num_ctx":1}]}""", """{"model":"m","options":[{"num_ctx":1}]}""")]
    [InlineData("""{"model":"m","options":{"top_k":1},"options":7}""", """{"model":"m","options":{"top_k":1},"options":7}""")]
    [InlineData("""{}""", """{"options":{"num_ctx":8192}}""")]
    public void NumCtx_WhenAbsent_IsAddedToTheOptionsGoReads(string body, string expected)
    {
        AssertRewrite(body, s_numCtx, expected);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", """{"model":"m","options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":4096}}""", """{"model":"m","options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":"8k","top_k":1}}""", """{"model":"m","options":{"num_ctx":8192,"top_k":1}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":4096.5}}""", """{"model":"m","options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":{"a":[1]}}}""", """{"model":"m","options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":[1, 2] }}""", """{"model":"m","options":{"num_ctx":8192 }}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":1,"num_ctx":2}}""", """{"model":"m","options":{"num_ctx":1,"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":1},"options":{"top_k":1}}""", """{"model":"m","options":{"num_ctx":8192},"options":{"top_k":1}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":1},"options":null}""", """{"model":"m","options":{"num_ctx":1},"options":null,"options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":null}}""", """{"model":"m","options":{"num_ctx":null,"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"num_ctx":8192}}""", """{"model":"m","options":{"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":{"nested":{"num_ctx":1}}}""", """{"model":"m","options":{"nested":{"num_ctx":1},"num_ctx":8192}}""")]
    [InlineData("""{"model":"m","options":"fast"}""", """{"model":"m","options":"fast"}""")]
    public void NumCtx_Forced_ReplacesTheValueGoReadsWhateverItsType(string body, string expected)
    {
        AssertRewrite(body, s_forceNumCtx, expected);
    }

    [Theory]
    [InlineData(false, """{"model":"alias","prompt":"hi"}""", """{"model":"llama3.2","prompt":"hi","keep_alive":-1,"options":{"num_ctx":8192}}""")]
    [InlineData(false, """{"prompt":"hi","model":"alias","keep_alive":"5m","options":{"num_ctx":2048}}""", """{"prompt":"hi","model":"llama3.2","keep_alive":"5m","options":{"num_ctx":2048}}""")]
    [InlineData(true, """{"keep_alive":"5m","options":{"num_ctx":2048},"model":"alias"}""", """{"keep_alive":-1,"options":{"num_ctx":8192},"model":"llama3.2"}""")]
    [InlineData(true, """{"options":{},"model":"alias"}""", """{"options":{"num_ctx":8192},"model":"llama3.2","keep_alive":-1}""")]
    public void Both_WithTheAliasSplice_AllThreeApplyAndNeverOverlap(bool force, string body, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var model = body.IndexOf("\"alias\"", StringComparison.Ordinal);
        var aliased = new ForwardBody(bytes, model, "\"alias\"".Length, "\"llama3.2\""u8.ToArray());
        var defaults = new RequestDefaults("-1", "-1", force, 8192, force);

        var result = RequestDefaultsSplice.Apply(aliased, defaults);

        AssertBody(result, expected);
    }

    [Fact]
    public void Both_AbsentFromAnEmptyObject_KeepAliveFirstThenOptionsAndOneCommaBetween()
    {
        AssertRewrite("{}", new RequestDefaults("-1", "-1", false, 8192, false), """{"keep_alive":-1,"options":{"num_ctx":8192}}""");
    }

    [Fact]
    public void Apply_ForcedValuesAlreadyThere_AddsNoSplice()
    {
        var body = new ForwardBody("""{"model":"m","keep_alive":-1,"options":{"num_ctx":8192}}"""u8.ToArray());

        var result = RequestDefaultsSplice.Apply(body, new RequestDefaults("-1", "-1", true, 8192, true));

        result.SpliceCount.Should().Be(0);
        AssertBody(result, """{"model":"m","keep_alive":-1,"options":{"num_ctx":8192}}""");
    }

    [Fact]
    public void Apply_NothingConfigured_ReturnsTheBodyAsItWas()
    {
        var body = new ForwardBody("""{"model":"m"}"""u8.ToArray());

        var result = RequestDefaultsSplice.Apply(body, RequestDefaults.None);

        result.SpliceCount.Should().Be(0);
        AssertBody(result, """{"model":"m"}""");
    }

    [Theory]
    [InlineData("""{"model":"m",""")]
    [InlineData("""[{"model":"m"}]""")]
    [InlineData("""{"model":"m","x":}""")]
    public void Apply_BodyModelPeekWouldRefuse_IsLeftAlone(string body)
    {
        var result = RequestDefaultsSplice.Apply(new ForwardBody(Encoding.UTF8.GetBytes(body)), new RequestDefaults("-1", "-1", true, 8192, true));

        result.SpliceCount.Should().Be(0);
    }

    [Fact]
    public void Apply_NestingAtGosLimitBeforeTheKeys_StillFindsThem()
    {
        // The outer object is level 1; the array brackets supply the rest, up to Go's 10000.
        const int depth = 10_000;
        var body = "{\"format\":" + new string('[', depth - 1) + new string(']', depth - 1) + ",\"model\":\"m\",\"keep_alive\":1}";

        AssertRewrite(body, s_forceKeepAlive, body.Replace("\"keep_alive\":1", "\"keep_alive\":-1", StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_FiveMegabyteImage_OnlyTheInjectedFieldsDifferAndTheImageIsNotCopied()
    {
        var random = new Random(42);
        var image = new byte[5 * 1024 * 1024 / 4 * 3];
        random.NextBytes(image);
        var base64 = Convert.ToBase64String(image);
        string Chat(string model, string extra) =>
            $$"""{"model":{{model}},"messages":[{"role":"user","content":"What is in this picture?","images":["{{base64}}"]}],"options":{"temperature":0.2{{extra}}},"stream":false""";
        var original = Encoding.UTF8.GetBytes(Chat("\"alias\"", "") + "}");
        var expected = Encoding.UTF8.GetBytes(Chat("\"llama3.2\"", ",\"num_ctx\":8192") + ",\"keep_alive\":-1}");
        var aliased = new ForwardBody(original, 9, 7, "\"llama3.2\""u8.ToArray());

        var result = RequestDefaultsSplice.Apply(aliased, new RequestDefaults("-1", "-1", false, 8192, false));

        result.SpliceCount.Should().Be(3);
        Flatten(result).AsSpan().SequenceEqual(expected).Should().BeTrue("the body must be the original with the alias replaced and the fields added");
        MemoryMarshal.TryGetArray(result.GetSegment(2), out var imageSegment).Should().BeTrue();
        imageSegment.Array.Should().BeSameAs(original, "the run holding the image is the client's buffer, not a copy");
        imageSegment.Count.Should().BeGreaterThan(base64.Length);
        using var parsed = ParseFirstValue(Flatten(result));
        parsed.RootElement.GetProperty("messages")[0].GetProperty("images")[0].GetString().Should().Be(base64);
    }

    private static void AssertRewrite(string body, RequestDefaults defaults, string expected)
    {
        var result = RequestDefaultsSplice.Apply(new ForwardBody(Encoding.UTF8.GetBytes(body)), defaults);

        AssertBody(result, expected);
    }

    private static void AssertBody(ForwardBody result, string expected)
    {
        var bytes = Flatten(result);
        Encoding.UTF8.GetString(bytes).Should().Be(expected);
        bytes.Should().Equal(Encoding.UTF8.GetBytes(expected));
        using var parsed = ParseFirstValue(bytes);
        parsed.RootElement.ValueKind.Should().Be(JsonValueKind.Object);
    }

    private static byte[] Flatten(ForwardBody body)
    {
        var bytes = new byte[body.Length];
        body.CopyTo(bytes);
        return bytes;
    }

    // The first JSON value, as Go's Decoder reads it; bytes after it are not its business.
    private static JsonDocument ParseFirstValue(byte[] bytes)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 10_000 });
        return JsonDocument.ParseValue(ref reader);
    }
}
