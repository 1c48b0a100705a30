using Gollamas.Config;

namespace Gollamas.Tests.Config;

public class DurationParserTests
{
    // Expected values in ticks (100 ns), so sub-millisecond units are checked exactly.
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-0", 0L)]
    [InlineData("+0", 0L)]
    [InlineData("0s", 0L)]
    [InlineData("250ms", 2_500_000L)]
    [InlineData("5s", 50_000_000L)]
    [InlineData("10m", 6_000_000_000L)]
    [InlineData("1h", 36_000_000_000L)]
    [InlineData("1h30m", 54_000_000_000L)]
    [InlineData("1.5h", 54_000_000_000L)]
    [InlineData("2h45m30.5s", 99_305_000_000L)]
    [InlineData("1m1m", 1_200_000_000L)]
    [InlineData(".5s", 5_000_000L)]
    [InlineData("5.s", 50_000_000L)]
    [InlineData("1.004s", 10_040_000L)]
    [InlineData("100ns", 1L)]
    [InlineData("199ns", 1L)]
    [InlineData("3us", 30L)]
    [InlineData("3\u00B5s", 30L)]
    [InlineData("3\u03BCs", 30L)]
    [InlineData("1ms500us", 15_000L)]
    [InlineData("-1.5h", -54_000_000_000L)]
    [InlineData("+5s", 50_000_000L)]
    [InlineData("300", 3_000_000_000L)]
    [InlineData("1.5", 15_000_000L)]
    [InlineData("0.25", 2_500_000L)]
    [InlineData(".5", 5_000_000L)]
    [InlineData("-2", -20_000_000L)]
    [InlineData("2562047h47m16.854775807s", 92_233_720_368_547_758L)]
    [InlineData("-2562047h47m16.854775808s", -92_233_720_368_547_758L)]
    [InlineData("9223372036854775807ns", 92_233_720_368_547_758L)]
    [InlineData("9223372036.854775807", 92_233_720_368_547_758L)]
    [InlineData("0.100000000000000000000h", 3_600_000_000L)]
    public void TryParse_GoDurationOrSeconds_Parses(string text, long ticks)
    {
        var ok = DurationParser.TryParse(text, out var value);

        ok.Should().BeTrue();
        value.Should().Be(TimeSpan.FromTicks(ticks));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("+")]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData(".")]
    [InlineData(".s")]
    [InlineData("-.s")]
    [InlineData("1d")]
    [InlineData("5x")]
    [InlineData("5S")]
    [InlineData("1H")]
    [InlineData("1sec")]
    [InlineData("1h30")]
    [InlineData("1.2.3")]
    [InlineData("1..5s")]
    [InlineData("--5s")]
    [InlineData("5s-")]
    [InlineData("5 s")]
    [InlineData(" 5s")]
    [InlineData("5s ")]
    [InlineData("1h 30m")]
    [InlineData("1,5s")]
    [InlineData("1e3")]
    [InlineData("0x10")]
    [InlineData("\uFF15s")]
    [InlineData("9223372036854775808ns")]
    [InlineData("2562047h47m16.854775808s")]
    [InlineData("2562048h")]
    [InlineData("9223372037")]
    [InlineData("99999999999999999999s")]
    [InlineData("-2562047h47m16.854775809s")]
    public void TryParse_Invalid_ReturnsFalse(string text)
    {
        var ok = DurationParser.TryParse(text, out var value);

        ok.Should().BeFalse();
        value.Should().Be(TimeSpan.Zero);
    }
}
