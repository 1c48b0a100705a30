using Gollamas.Security;

namespace Gollamas.Tests.Security;

/// <summary>How a key given on the command line or in a keys file is split into its name and the key.</summary>
public sealed class KeyNamesTests
{
    [Theory]
    [InlineData("team-a=sk-123", "team-a", "sk-123")]
    [InlineData("ci.bot_2=a=b", "ci.bot_2", "a=b")]
    [InlineData("sk-123", null, "sk-123")]
    [InlineData("c2stb25l=", null, "c2stb25l=")]
    [InlineData("abc==", null, "abc==")]
    [InlineData("=abc", null, "=abc")]
    [InlineData("1team=abc", null, "1team=abc")]
    [InlineData("te am=abc", null, "te am=abc")]
    [InlineData("t/x=abc", null, "t/x=abc")]
    public void ReadFlag_NamedOnlyWhenTheNameIsOneAndTheKeyIsNotBase64Padding(string text, string? name, string key)
    {
        KeyNames.ReadFlag(text).Should().Be(new KeyNames.Entry(name, key));
    }

    [Theory]
    [InlineData("ops: sk-9", "ops", "sk-9")]
    [InlineData("ops:\tsk-9", "ops", "sk-9")]
    [InlineData("ops=sk-9", "ops", "sk-9")]
    [InlineData("sk:9", null, "sk:9")]
    [InlineData("ops:", null, "ops:")]
    [InlineData("sk-9", null, "sk-9")]
    public void ReadLine_NameColonSpaceKey_OrTheFlagsForm(string line, string? name, string key)
    {
        KeyNames.ReadLine(line).Should().Be(new KeyNames.Entry(name, key));
    }

    [Fact]
    public void ByPosition_PrefixAndNumber()
    {
        KeyNames.ByPosition(KeyNames.ClientPrefix, 2).Should().Be("key2");
        KeyNames.ByPosition(KeyNames.AdminPrefix, 1).Should().Be("admin1");
    }
}
