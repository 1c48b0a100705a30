using BenchmarkDotNet.Attributes;
using Gollamas.Connections;
using Gollamas.Routing;

namespace Gollamas.Bench.Micro;

/// <summary>
/// <see cref="RouteTable.TryResolve"/> for each kind of name a client sends. Every spelling
/// Ollama accepts for a configured model or alias is precomputed, so those should cost one
/// frozen-dictionary probe and 0 B; only names outside the table take the parse fallback.
/// </summary>
[MemoryDiagnoser]
[GcServer(false)]
public class RouteLookupBenchmarks
{
    private readonly string _exact = BenchConfig.Model;
    private readonly string _otherCase = "LLaMA3.2";
    private readonly string _alias = BenchConfig.Alias;
    private readonly string _fullyQualified = "registry.ollama.ai/library/llama3.2:latest";
    private readonly string _surroundingSpace = " llama3.2 ";
    private readonly string _localSuffix = "llama3.2:local";
    private readonly string _unknown = "phi4:14b";

    private ConnectionRegistry _connections = null!;
    private RouteTable _table = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = BenchConfig.Options("http://127.0.0.1:1");
        _connections = new ConnectionRegistry();
        _table = RouteTable.Build(options, [.. options.Connections.Select((c, i) => _connections.GetOrAdd(c, new ConnectionSettings(), i + 1))]);
        foreach (var name in (string[])[_exact, _otherCase, _alias, _fullyQualified, _surroundingSpace, _localSuffix])
        {
            if (!_table.TryResolve(name, out _))
            {
                throw new InvalidOperationException($"'{name}' should resolve");
            }
        }

        if (_table.TryResolve(_unknown, out _))
        {
            throw new InvalidOperationException($"'{_unknown}' should not resolve");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _connections.Dispose();

    [Benchmark(Baseline = true)]
    public bool Exact() => _table.TryResolve(_exact, out _);

    [Benchmark]
    public bool OtherCase() => _table.TryResolve(_otherCase, out _);

    [Benchmark]
    public bool Alias() => _table.TryResolve(_alias, out var match) && match.IsAlias;

    [Benchmark]
    public bool FullyQualified() => _table.TryResolve(_fullyQualified, out _);

    // Not precomputed: these two reach ModelName.TryParse.
    [Benchmark]
    public bool SurroundingSpace() => _table.TryResolve(_surroundingSpace, out _);

    [Benchmark]
    public bool LocalSuffix() => _table.TryResolve(_localSuffix, out _);

    // The 404 path: the probe misses, the parse succeeds, the canonical probe misses.
    [Benchmark]
    public bool Unknown() => _table.TryResolve(_unknown, out _);
}
