using Gollamas.Config;

namespace Gollamas.Tests.Config;

public class SizeParserTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1", 1L)]
    [InlineData("1048576", 1_048_576L)]
    [InlineData("1KB", 1_000L)]
    [InlineData("1kb", 1_000L)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("1KiB", 1_024L)]
    [InlineData("1kib", 1_024L)]
    [InlineData("64MiB", 67_108_864L)]
    [InlineData("64MIB", 67_108_864L)]
    [InlineData("256mib", 268_435_456L)]
    [InlineData("2GiB", 2_147_483_648L)]
    [InlineData("64 MiB", 67_108_864L)]
    [InlineData("0GiB", 0L)]
    [InlineData("007KB", 7_000L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("8589934591GiB", 8_589_934_591L << 30)]
    public void TryParse_BytesOrNumberWithUnit_Parses(string text, long bytes)
    {
        var ok = SizeParser.TryParse(text, out var value);

        ok.Should().BeTrue();
        value.Should().Be(bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("MiB")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.5MiB")]
    [InlineData("1,024")]
    [InlineData("1_024")]
    [InlineData("1e6")]
    [InlineData("0x400")]
    [InlineData("64M")]
    [InlineData("64K")]
    [InlineData("64G")]
    [InlineData("64B")]
    [InlineData("1TB")]
    [InlineData("1TiB")]
    [InlineData("64Mi")]
    [InlineData("64 ")]
    [InlineData(" 64")]
    [InlineData("64  MiB")]
    [InlineData("64MiB ")]
    [InlineData("64\tMiB")]
    [InlineData("64MiB64")]
    [InlineData("\uFF16\uFF14")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999")]
    [InlineData("8589934592GiB")]
    [InlineData("9223372036854776KB")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        var ok = SizeParser.TryParse(text, out var value);

        ok.Should().BeFalse();
        value.Should().Be(0);
    }
}
