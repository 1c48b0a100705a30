namespace Gollamas.Tests;

public class SmokeTests
{
    [Fact]
    public void ExitCodes_ConfigError_IsTwo() => Gollamas.Cli.ExitCodes.ConfigError.Should().Be(2);
}
