namespace Gollamas.Bench.Load;

/// <summary>Where the benches find their tools and their assets (tests/Gollamas.Bench/bench).</summary>
internal static class BenchPaths
{
    /// <summary>The program <paramref name="name"/> on PATH, or in /usr/sbin or /usr/local/sbin (nginx lives there); null if none.</summary>
    public static string? FindOnPath(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty) + ":/usr/sbin:/usr/local/sbin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// The bench's assets directory, the one holding <paramref name="marker"/>: the bench runs
    /// from tests/Gollamas.Bench/bin/Release/net10.0, so walk up to the project.
    /// </summary>
    public static string? FindAssets(string marker)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "bench");
            if (File.Exists(Path.Combine(candidate, marker)))
            {
                return candidate;
            }
        }

        return null;
    }
}
