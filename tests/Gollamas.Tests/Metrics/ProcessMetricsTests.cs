using Gollamas.Metrics;

namespace Gollamas.Tests.Metrics;

/// <summary>The /proc files the process metrics read, as proc(5) writes them.</summary>
public sealed class ProcessMetricsTests
{
    [Fact]
    public void Stat_CommandWithSpacesAndParentheses_FieldsCountedFromItsLastParenthesis()
    {
        const string line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 2500 0 0 0 731 269 0 0 20 0 12 0 98765 1234567890 4321 18446744073709551615 1 1 0 0 0 0 0 4096 17663 0 0 0 17 1 0 0 0 0 0\n";

        var parsed = ProcessMetrics.TryParseStat(line, out var stat);

        parsed.Should().BeTrue();
        stat.Should().Be(new ProcessStat(UserTicks: 731, SystemTicks: 269, StartTicks: 98765, VirtualBytes: 1234567890, ResidentPages: 4321));
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 (short) S 1 2 3")]
    [InlineData("no parenthesis at all")]
    public void Stat_Unreadable_NotParsed(string line) =>
        ProcessMetrics.TryParseStat(line, out _).Should().BeFalse();

    [Fact]
    public void Limits_MaxOpenFiles_TheSoftLimit()
    {
        string[] limits =
        [
            "Limit                     Soft Limit           Hard Limit           Units",
            "Max processes             127617               127617               processes",
            "Max open files            1024                 524288               files",
        ];

        ProcessMetrics.TryParseMaxFiles(limits, out var max).Should().BeTrue();

        max.Should().Be(1024);
    }

    [Fact]
    public void Limits_UnlimitedOpenFiles_NoValue() =>
        ProcessMetrics.TryParseMaxFiles(["Max open files            unlimited            unlimited            files"], out _).Should().BeFalse();
}
