using System.Diagnostics;

namespace Gollamas.Tests.Published;

/// <summary>
/// The Native-AOT binary under test: the one named by GOLLAMAS_BINARY (build.sh test publishes
/// it first), else one published here once per test run.
/// </summary>
internal static class PublishedBinary
{
    private static readonly Lazy<Task<string>> s_path = new(FindOrPublishAsync);

    public static Task<string> PathAsync() => s_path.Value;

    private static async Task<string> FindOrPublishAsync()
    {
        var given = Environment.GetEnvironmentVariable("GOLLAMAS_BINARY");
        if (!string.IsNullOrEmpty(given))
        {
            File.Exists(given).Should().BeTrue($"GOLLAMAS_BINARY names {given}");
            return given;
        }

        var root = FindRepositoryRoot();
        var output = Path.Combine(Path.GetTempPath(), "gollamas-test-publish-" + Environment.ProcessId);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", Path.Combine(root, "src", "Gollamas", "Gollamas.csproj"), "-c", "Release", "-r", "linux-x64", "-o", output, "-nologo" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var publish = Process.Start(start)!;
        var stdout = publish.StandardOutput.ReadToEndAsync();
        var stderr = publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        publish.ExitCode.Should().Be(0, "the AOT publish must succeed:\n{0}\n{1}", await stdout, await stderr);
        return Path.Combine(output, "gollamas");
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Gollamas.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Gollamas.sln not found above " + AppContext.BaseDirectory);
    }
}
