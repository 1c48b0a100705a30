using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Gollamas.Hosting;

namespace Gollamas.Bench.Micro;

/// <summary>
/// <c>micro --chunks</c>: managed bytes allocated per streamed chunk by the proxy. Starts the
/// real <see cref="ProxyServer"/> in-process in front of an <see cref="NdjsonBackend"/>, streams
/// /api/chat responses of 10 and 1000 NDJSON lines through it, and reads
/// <see cref="GC.GetTotalAllocatedBytes(bool)"/> (every thread of the process) around a batch of
/// requests. The same requests sent straight to the backend give what the client and the
/// backend allocate themselves; the difference is the proxy's share. The slope between the two
/// line counts is the per-chunk cost; what is left at 10 lines is the per-request cost.
/// </summary>
/// <remarks>
/// The client and the backend run in lockstep: the backend writes line k+1 only after the
/// client has read line k. A real model emits tokens far slower than loopback carries them, so
/// every token reaches the proxy as its own read; free-running, several lines would coalesce
/// into one read and hide per-read costs.
/// </remarks>
internal static class ChunkAllocationRun
{
    private const int FewChunks = 10;
    private const int ManyChunks = 1000;

    // Allocation counts only gain from noise (timers, connection-pool scavenging, tiering), so
    // the smallest of a few rounds is the best estimate.
    private const int Rounds = 5;

    private static readonly byte[] s_requestBody = Encoding.UTF8.GetBytes(
        """{"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true}""");

    public static async Task<int> RunAsync(bool byType)
    {
        await using var backend = await NdjsonBackend.StartAsync();

        // The console logging a started binary has, at the load run's --level warn: what the
        // host and Kestrel do per request depends on which of their loggers are enabled.
        var options = BenchConfig.Options(backend.Address.ToString(), level: "warn");
        await using var proxy = await ProxyServer.StartAsync(options, new ServerLimits(), configureLogging: null, CancellationToken.None);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromMinutes(1) };
        var buffer = new byte[64 * 1024];

        var direct = new Uri(backend.Address, "api/chat");
        var proxied = new Uri(proxy.Addresses[0], "api/chat");

        Console.WriteLine($"Managed bytes allocated per /api/chat request (all threads, min of {Rounds} rounds)");
        Console.WriteLine();
        Console.WriteLine($"| path    | {FewChunks,5} lines | {ManyChunks,5} lines | per extra line |");
        Console.WriteLine("|---------|-----------:|-----------:|---------------:|");
        var directCost = await MeasureAsync("direct", client, direct, backend, buffer);
        var proxiedCost = await MeasureAsync("proxied", client, proxied, backend, buffer);

        var perChunk = proxiedCost.PerExtraLine - directCost.PerExtraLine;
        var perRequest = proxiedCost.Few - directCost.Few - (FewChunks * perChunk);
        Console.WriteLine();
        Console.WriteLine($"Proxy's share: {perChunk.ToString("0.0", CultureInfo.InvariantCulture)} B per chunk, {perRequest.ToString("0", CultureInfo.InvariantCulture)} B per request");

        if (byType)
        {
            // Per line: 200 requests of 1000 lines at 650-850 B a line, some 1,500 samples a path.
            // Per request: 20,000 requests of one line at 10-15 kB, some 2,000-3,000 samples.
            await PrintTypesAsync("direct", "line", client, direct, backend, buffer, ManyChunks, requests: 200);
            await PrintTypesAsync("proxied", "line", client, proxied, backend, buffer, ManyChunks, requests: 200);
            await PrintTypesAsync("direct", "request (1 line)", client, direct, backend, buffer, chunks: 1, requests: 20_000);
            await PrintTypesAsync("proxied", "request (1 line)", client, proxied, backend, buffer, chunks: 1, requests: 20_000);
        }

        return 0;
    }

    /// <summary>The types behind the bytes of one path, per line or per request; compare the two paths' lists.</summary>
    private static async Task PrintTypesAsync(
        string label, string unit, HttpClient client, Uri uri, NdjsonBackend backend, byte[] buffer, int chunks, int requests)
    {
        using var sampler = new AllocationSampler();
        sampler.Start();
        for (var i = 0; i < requests; i++)
        {
            await StreamOnceAsync(client, uri, chunks, backend, buffer);
        }

        sampler.Stop();
        var units = chunks == 1 ? requests : (double)requests * chunks;
        Console.WriteLine();
        Console.WriteLine($"{label}: sampled bytes per {unit}, by type");
        foreach (var (type, bytes) in sampler.BytesByType.Take(chunks == 1 ? 24 : 8))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes / units,8:0.0}  {type}"));
        }
    }

    private static async Task<Cost> MeasureAsync(string label, HttpClient client, Uri uri, NdjsonBackend backend, byte[] buffer)
    {
        // Warm up: JIT, tiering, the connection pools on both hops.
        for (var i = 0; i < 30; i++)
        {
            await StreamOnceAsync(client, uri, FewChunks, backend, buffer);
        }

        await StreamOnceAsync(client, uri, ManyChunks, backend, buffer);

        var few = await BytesPerRequestAsync(client, uri, FewChunks, requests: 200, backend, buffer);
        var many = await BytesPerRequestAsync(client, uri, ManyChunks, requests: 10, backend, buffer);
        var cost = new Cost(few, many, (many - few) / (ManyChunks - FewChunks));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {label,-7} | {cost.Few,10:N0} | {cost.Many,10:N0} | {cost.PerExtraLine,14:0.0} |"));
        return cost;
    }

    private static async Task<double> BytesPerRequestAsync(HttpClient client, Uri uri, int chunks, int requests, NdjsonBackend backend, byte[] buffer)
    {
        var best = double.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < requests; i++)
            {
                await StreamOnceAsync(client, uri, chunks, backend, buffer);
            }

            var after = GC.GetTotalAllocatedBytes(precise: true);
            best = Math.Min(best, (after - before) / (double)requests);
        }

        return best;
    }

    private static async Task StreamOnceAsync(HttpClient client, Uri uri, int chunks, NdjsonBackend backend, byte[] buffer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{uri}?chunks={chunks}")
        {
            Content = new ByteArrayContent(s_requestBody) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();

        // Raw reads and a newline count: the client's own share stays small and identical on
        // both paths, so it cancels out in the subtraction.
        await using var body = await response.Content.ReadAsStreamAsync();
        var lines = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            var newLines = buffer.AsSpan(0, read).Count((byte)'\n');
            for (var i = 0; i < newLines; i++)
            {
                if (++lines < chunks)
                {
                    backend.LineReceived.Release();
                }
            }
        }

        if (lines != chunks)
        {
            throw new InvalidOperationException($"expected {chunks} lines from {uri}, read {lines}");
        }
    }

    private readonly record struct Cost(double Few, double Many, double PerExtraLine);
}
