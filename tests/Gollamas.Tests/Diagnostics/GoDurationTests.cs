using Gollamas.Config;
using Gollamas.Diagnostics;

namespace Gollamas.Tests.Diagnostics;

/// <summary>Durations written as Go's time.Duration.String writes them, to the millisecond, and read back by the duration parser.</summary>
public sealed class GoDurationTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(0.4, "0s")]
    [InlineData(1, "1ms")]
    [InlineData(250, "250ms")]
    [InlineData(999.6, "1s")]
    [InlineData(1250, "1.25s")]
    [InlineData(59_999, "59.999s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(90_500, "1m30.5s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(5_430_001, "1h30m30.001s")]
    public void Format_AsGoWritesIt(double milliseconds, string expected)
    {
        var text = GoDuration.Format(TimeSpan.FromMilliseconds(milliseconds));

        text.Should().Be(expected);
        DurationParser.TryParse(text, out var back).Should().BeTrue();
        back.Should().Be(TimeSpan.FromMilliseconds(Math.Round(milliseconds, MidpointRounding.AwayFromZero)));
    }
}
