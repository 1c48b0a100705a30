using System.Text;
using Gollamas.Config;

namespace Gollamas.Tests.Config;

/// <summary>User and password in a connection URL, read as Go's url.Parse reads them, and never printed.</summary>
public sealed class UrlCredentialsTests
{
    [Theory]
    [InlineData("http://admin:secret@gpu1:11434", "http://gpu1:11434", "admin:secret")]
    [InlineData("http://admin@gpu1:11434/", "http://gpu1:11434/", "admin:")]
    [InlineData("http://admin:@gpu1", "http://gpu1", "admin:")]
    [InlineData("http://:secret@gpu1", "http://gpu1", ":secret")]
    [InlineData("https://a%40b:p%3Aw%25d+x@gpu1/ollama/", "https://gpu1/ollama/", "a@b:p:w%d+x")]
    [InlineData("http://admin:p:w@gpu1", "http://gpu1", "admin:p:w")]
    [InlineData("http://us@er:p@ss@gpu1", "http://gpu1", "us@er:p@ss")]
    [InlineData("http://admin:s%C3%A9cret@gpu1", "http://gpu1", "admin:s\u00e9cret")]
    [InlineData("http://admin:!$&'()*,;=~._-@gpu1", "http://gpu1", "admin:!$&'()*,;=~._-")]
    public void TrySplit_Userinfo_DecodedAsGoAndRemovedFromTheUrl(string url, string expectedUrl, string expectedPlain)
    {
        var ok = UrlCredentials.TrySplit(url, out var withoutCredentials, out var credentials, out var problem);

        ok.Should().BeTrue();
        problem.Should().BeNull();
        withoutCredentials.Should().Be(expectedUrl);
        credentials!.AuthorizationValue.Should().Be("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(expectedPlain)));
    }

    [Theory]
    [InlineData("http://gpu1:11434")]
    [InlineData("http://gpu1:11434/a@b")]
    [InlineData("gpu1")]
    public void TrySplit_NoUserinfo_UrlUnchangedAndNoCredentials(string url)
    {
        var ok = UrlCredentials.TrySplit(url, out var withoutCredentials, out var credentials, out var problem);

        ok.Should().BeTrue();
        withoutCredentials.Should().Be(url);
        credentials.Should().BeNull();
        problem.Should().BeNull();
    }

    [Theory]
    [InlineData("http://admin:se cret@gpu1", "invalid character in the URL's user or password (percent-encode it)")]
    [InlineData("http://admin:sé@gpu1", "invalid character in the URL's user or password (percent-encode it)")]
    [InlineData("http://admin:a\"b@gpu1", "invalid character in the URL's user or password (percent-encode it)")]
    [InlineData("http://admin:50%@gpu1", "invalid percent escape in the URL's user or password")]
    [InlineData("http://ad%zzmin:x@gpu1", "invalid percent escape in the URL's user or password")]
    [InlineData("http://admin:%4@gpu1", "invalid percent escape in the URL's user or password")]
    public void TrySplit_UserinfoGoRefuses_Refused(string url, string expected)
    {
        var ok = UrlCredentials.TrySplit(url, out _, out var credentials, out var problem);

        ok.Should().BeFalse();
        credentials.Should().BeNull();
        problem.Should().Be(expected);
    }

    [Fact]
    public void ToString_NeverShowsTheSecret()
    {
        UrlCredentials.TrySplit("http://admin:secret@gpu1", out _, out var credentials, out _);
        var connection = new ConnectionConfig("gpu1", new Uri("http://gpu1/"), IsExplicit: true, credentials);

        connection.ToString().Should().NotContain("secret").And.NotContain(credentials!.AuthorizationValue["Basic ".Length..]);
    }

    [Theory]
    [InlineData("llama3.2=http://admin:secret@gpu1:11434", "llama3.2=http://***@gpu1:11434")]
    [InlineData("'http://admin:se cret@gpu1' is not an http(s) URL", "'http://***@gpu1' is not an http(s) URL")]
    [InlineData("a=http://u:p@h1/x,b=https://v:q@h2", "a=http://***@h1/x,b=https://***@h2")]
    [InlineData("http://gpu1:11434/a@b", "http://gpu1:11434/a@b")]
    [InlineData("no URL here", "no URL here")]
    public void Redact_UserinfoOfEveryUrl_Replaced(string text, string expected) =>
        UrlCredentials.Redact(text).Should().Be(expected);
}
