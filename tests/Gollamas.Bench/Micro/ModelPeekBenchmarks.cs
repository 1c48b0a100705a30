using System.Text;
using BenchmarkDotNet.Attributes;
using Gollamas.Bodies;
using Gollamas.Connections;
using Gollamas.Routing;

namespace Gollamas.Bench.Micro;

/// <summary>
/// <see cref="ModelPeek.Peek"/> on the body shapes that matter: a typical small chat, a long
/// conversation with the model key last (the whole messages array is skipped), and a 5 MB
/// multimodal request whose base64 image comes before the model key. Plus the alias path as a
/// request takes it: peek, resolve, splice the configured name in, serialise the body; and the
/// same with keep_alive and num_ctx defaults spliced in too (<see cref="RequestDefaultsSplice"/>).
/// Peek and the rewrite should allocate nothing.
/// </summary>
[MemoryDiagnoser]
[GcServer(false)]
public class ModelPeekBenchmarks
{
    private byte[] _small = [];
    private byte[] _longConversation = [];
    private byte[] _image = [];
    private byte[] _smallAliased = [];
    private byte[] _smallAliasedBare = [];
    private byte[] _spliceTarget = new byte[4096];
    private ConnectionRegistry _connections = null!;
    private RouteTable _table = null!;
    private RequestDefaults _defaults = null!;

    [GlobalSetup]
    public void Setup()
    {
        _small = SmallChat(BenchConfig.Model);
        _smallAliased = SmallChat(BenchConfig.Alias);
        _smallAliasedBare = SmallChatWithoutDefaults(BenchConfig.Alias);
        _defaults = new RequestDefaults("-1", "-1", forceKeepAlive: false, 8192, forceNumCtx: false);
        _longConversation = LongConversation(targetBytes: 50 * 1024);
        _image = ImageChat(imageBase64Bytes: 5 * 1024 * 1024);

        var options = BenchConfig.Options("http://127.0.0.1:1");
        _connections = new ConnectionRegistry();
        _table = RouteTable.Build(options, [.. options.Connections.Select((c, i) => _connections.GetOrAdd(c, new ConnectionSettings(), i + 1))]);

        foreach (var body in (byte[][])[_small, _longConversation, _image])
        {
            if (PeekBody(body) != BenchConfig.Model.Length)
            {
                throw new InvalidOperationException("peek did not find the model");
            }
        }

        // The spliced body must be the small chat with the alias replaced by the model name.
        var spliced = new byte[_small.Length];
        if (SpliceAlias(spliced) != _small.Length || !spliced.AsSpan().SequenceEqual(_small))
        {
            throw new InvalidOperationException("splice did not produce the configured name");
        }

        // And the bare chat gets the name, then keep_alive and options added at its end.
        var bare = Encoding.UTF8.GetString(SmallChatWithoutDefaults(BenchConfig.Model));
        var expected = Encoding.UTF8.GetBytes(bare[..^1] + ""","keep_alive":-1,"options":{"num_ctx":8192}}""");
        var rewritten = new byte[expected.Length];
        if (SpliceAliasAndDefaults(rewritten) != expected.Length || !rewritten.AsSpan().SequenceEqual(expected))
        {
            throw new InvalidOperationException("rewrite did not add the defaults");
        }

        if (RequestDefaultsSplice.Apply(new ForwardBody(_image), _defaults).SpliceCount != 2)
        {
            throw new InvalidOperationException("rewrite did not find where to add the defaults in the image body");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _connections.Dispose();

    [Benchmark(Baseline = true)]
    public int Peek_SmallChat() => PeekBody(_small);

    [Benchmark]
    public int Peek_50KB_ModelLast() => PeekBody(_longConversation);

    [Benchmark]
    public int Peek_5MB_ImageBeforeModel() => PeekBody(_image);

    /// <summary>
    /// Peek, resolve, and copy the spliced body into a buffer, as the upstream connection does
    /// for a small request: what remains is the proxy's own cost, not I/O.
    /// </summary>
    [Benchmark]
    public long AliasSplice_SmallChat() => SpliceAlias(_spliceTarget);

    /// <summary>
    /// The alias splice plus keep_alive and num_ctx added: a second scan of the body and two
    /// more splices, then the copy into the send buffer.
    /// </summary>
    [Benchmark]
    public long AliasAndDefaults_SmallChat() => SpliceAliasAndDefaults(_spliceTarget);

    /// <summary>The rewrite's scan on its own over the 5 MB body: skipping the image is the cost.</summary>
    [Benchmark]
    public int Defaults_5MB_ImageBeforeModel() => RequestDefaultsSplice.Apply(new ForwardBody(_image), _defaults).SpliceCount;

    // The same stack buffer ModelEndpoints uses, so the zeroing of 600 chars is counted too.
    private static int PeekBody(ReadOnlySpan<byte> body)
    {
        Span<char> name = stackalloc char[ModelPeek.MaxNameChars];
        return ModelPeek.Peek(body, acceptName: false, name).NameLength;
    }

    private long SpliceAlias(Span<byte> destination)
    {
        Span<char> name = stackalloc char[ModelPeek.MaxNameChars];
        var peek = ModelPeek.Peek(_smallAliased, acceptName: false, name);
        if (!_table.TryResolve(name[..peek.NameLength], out var match) || !match.IsAlias)
        {
            throw new InvalidOperationException("alias did not resolve");
        }

        var body = new ForwardBody(_smallAliased, peek.TokenStart, peek.TokenLength, match.Route.NameAsJsonString);
        body.CopyTo(destination);
        return body.Length;
    }

    private long SpliceAliasAndDefaults(Span<byte> destination)
    {
        Span<char> name = stackalloc char[ModelPeek.MaxNameChars];
        var peek = ModelPeek.Peek(_smallAliasedBare, acceptName: false, name);
        if (!_table.TryResolve(name[..peek.NameLength], out var match) || !match.IsAlias)
        {
            throw new InvalidOperationException("alias did not resolve");
        }

        var body = new ForwardBody(_smallAliasedBare, peek.TokenStart, peek.TokenLength, match.Route.NameAsJsonString);
        body = RequestDefaultsSplice.Apply(body, _defaults);
        body.CopyTo(destination);
        return body.Length;
    }

    private static byte[] SmallChatWithoutDefaults(string model) => Encoding.UTF8.GetBytes(
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Why is the sky blue? Answer in one short paragraph."}],"stream":true}""");

    private static byte[] SmallChat(string model) => Encoding.UTF8.GetBytes(
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"Why is the sky blue? Answer in one short paragraph."}],"stream":true,"options":{"temperature":0.7,"num_ctx":4096},"keep_alive":"5m"}""");

    // A conversation with escapes in the text (so the reader cannot skip strings blindly),
    // the model key written after it.
    private static byte[] LongConversation(int targetBytes)
    {
        var json = new StringBuilder("""{"messages":[""");
        for (var turn = 0; json.Length < targetBytes; turn++)
        {
            var role = turn % 2 == 0 ? "user" : "assistant";
            json.Append(turn == 0 ? "" : ",")
                .Append($$"""{"role":"{{role}}","content":"Turn {{turn}}: \"quoted\" text,\nnew lines,\tand a tab. """)
                .Append('x', 400)
                .Append("\"}");
        }

        json.Append($$"""],"stream":true,"options":{"temperature":0},"model":"{{BenchConfig.Model}}"}""");
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    private static byte[] ImageChat(int imageBase64Bytes)
    {
        var image = new byte[imageBase64Bytes / 4 * 3];
        new Random(42).NextBytes(image);
        var json = $$"""{"messages":[{"role":"user","content":"What is in this picture?","images":["{{Convert.ToBase64String(image)}}"]}],"stream":false,"model":"{{BenchConfig.Model}}"}""";
        return Encoding.UTF8.GetBytes(json);
    }
}
