using System.Reflection;
using System.Runtime.InteropServices;

namespace Gollamas.Diagnostics;

/// <summary>
/// The one-line version report of <c>gollamas version</c> and <c>--version</c>:
/// <c>gollamas 0.1.0 (commit 1a2b3c4, linux-x64)</c>.
/// </summary>
internal static class VersionInfo
{
    private static readonly string? s_informational =
        typeof(VersionInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

    public static string Line { get; } = Format(s_informational, Rid(TargetRid(), RuntimeInformation.RuntimeIdentifier));

    /// <summary>The version alone (<c>0.1.0</c>), <c>unknown</c> if the build gave none.</summary>
    public static string Version { get; } = Split(s_informational).Version;

    /// <summary>The source revision the build knew, <c>unknown</c> if none.</summary>
    public static string Commit { get; } = Split(s_informational).Commit;

    /// <summary>
    /// The RID baked in at build time (<c>TargetRid</c> assembly metadata) when the build named
    /// one, else the running runtime's: a framework-dependent linux-riscv64 build run elsewhere
    /// still reports linux-riscv64.
    /// </summary>
    public static string Rid(string? targetRid, string runtimeIdentifier) =>
        string.IsNullOrWhiteSpace(targetRid) ? runtimeIdentifier : targetRid;

    private static string? TargetRid()
    {
        foreach (var metadata in typeof(VersionInfo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>())
        {
            if (metadata.Key == "TargetRid")
            {
                return metadata.Value;
            }
        }

        return null;
    }

    /// <summary>
    /// Splits the SDK's informational version, <c>VERSION+COMMIT</c> when the build knew its
    /// source revision, into the two parts of the line.
    /// </summary>
    public static string Format(string? informationalVersion, string runtimeIdentifier)
    {
        var (version, commit) = Split(informationalVersion);
        return $"gollamas {version} (commit {commit}, {runtimeIdentifier})";
    }

    private static (string Version, string Commit) Split(string? informationalVersion)
    {
        var version = string.IsNullOrEmpty(informationalVersion) ? "unknown" : informationalVersion;
        var commit = "unknown";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            commit = plus + 1 < version.Length ? version[(plus + 1)..] : commit;
            version = version[..plus];
        }

        return (version, commit);
    }
}
