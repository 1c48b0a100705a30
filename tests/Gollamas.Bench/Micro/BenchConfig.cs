using Gollamas.Config;

namespace Gollamas.Bench.Micro;

/// <summary>
/// The routing configuration every micro-benchmark uses, built through the real
/// <see cref="ConfigParser"/> so the table holds exactly what a started proxy would.
/// </summary>
internal static class BenchConfig
{
    /// <summary>The configured model the benchmarks route to.</summary>
    public const string Model = "llama3.2";

    /// <summary>An alias of <see cref="Model"/>.</summary>
    public const string Alias = "gpt-4o";

    /// <summary>
    /// Options for a proxy on 127.0.0.1:0 routing a handful of models (so the table is not
    /// trivially small) to <paramref name="backendUrl"/>, logging at <paramref name="level"/>.
    /// </summary>
    public static GollamasOptions Options(string backendUrl, string level = "info")
    {
        ConfigEntry[] proxies =
        [
            new($"{Model}={backendUrl}", "--proxy"),
            new($"qwen3:8b={backendUrl}", "--proxy"),
            new($"mistral-small3.2:24b={backendUrl}", "--proxy"),
            new($"hf.co/unsloth/gemma-3-27b-it-GGUF:Q4_K_M={backendUrl}", "--proxy"),
            new($"nomic-embed-text={backendUrl}", "--proxy"),
        ];
        ConfigEntry[] aliases = [new($"{Alias}={Model}", "--alias"), new("embed=nomic-embed-text", "--alias")];
        var input = new ConfigInput(
            new ConfigEntry("127.0.0.1:0", "--listen"),
            new ConfigEntry(level, "--level"),
            proxies,
            [],
            aliases,
            new ConfigEntry(string.Empty, "--list-aliases"));
        if (!ConfigParser.TryParse(input, out var options, out var errors))
        {
            throw new InvalidOperationException($"bench configuration rejected: {string.Join("; ", errors)}");
        }

        return options!;
    }
}
