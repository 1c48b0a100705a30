using Gollamas.Cli;
using Gollamas.Diagnostics;

namespace Gollamas.Tests.Cli;

public class VersionInfoTests
{
    [Theory]
    [InlineData("0.1.0+1a2b3c4d", "linux-x64", "gollamas 0.1.0 (commit 1a2b3c4d, linux-x64)")]
    [InlineData("1.2.3-rc.1+abc", "osx-arm64", "gollamas 1.2.3-rc.1 (commit abc, osx-arm64)")]
    [InlineData("0.1.0", "linux-musl-x64", "gollamas 0.1.0 (commit unknown, linux-musl-x64)")]
    [InlineData("0.1.0+", "win-x64", "gollamas 0.1.0 (commit unknown, win-x64)")]
    [InlineData("", "linux-x64", "gollamas unknown (commit unknown, linux-x64)")]
    [InlineData(null, "linux-x64", "gollamas unknown (commit unknown, linux-x64)")]
    public void Format_InformationalVersion_SplitsVersionAndCommit(string? informationalVersion, string rid, string expected)
    {
        var line = VersionInfo.Format(informationalVersion, rid);

        line.Should().Be(expected);
    }

    [Theory]
    [InlineData("linux-riscv64", "linux-x64", "linux-riscv64")]
    [InlineData("linux-arm64", "linux-arm64", "linux-arm64")]
    [InlineData(null, "linux-x64", "linux-x64")]
    [InlineData("", "linux-s390x", "linux-s390x")]
    public void Rid_PrefersTheBakedTargetRid(string? targetRid, string runtimeIdentifier, string expected)
    {
        VersionInfo.Rid(targetRid, runtimeIdentifier).Should().Be(expected);
    }
}
