using System.Net;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Config;

/// <summary>
/// Server addresses as operators write them: URLs at the server's root, and the forms of
/// OLLAMA_HOST without a scheme (ollama envconfig.Host), told apart from connection ids.
/// </summary>
public sealed class ServerUrlTests
{
    // envconfig.Host's cases (envconfig/config_test.go TestHost) that name a server, and ours.
    [Theory]
    [InlineData("10.0.0.5", "http://10.0.0.5:11434/")]
    [InlineData("10.0.0.5:1234", "http://10.0.0.5:1234/")]
    [InlineData("10.0.0.5:11434/", "http://10.0.0.5:11434/")]
    [InlineData("gpu1.lan", "http://gpu1.lan:11434/")]
    [InlineData("GPU1.lan:8080", "http://gpu1.lan:8080/")]
    [InlineData("gpu1:11434", "http://gpu1:11434/")]
    [InlineData("localhost", "http://localhost:11434/")]
    [InlineData("[::1]", "http://[::1]:11434/")]
    [InlineData("[::1]:1337", "http://[::1]:1337/")]
    [InlineData("::1", "http://[::1]:11434/")]
    [InlineData("fe80::1", "http://[fe80::1]:11434/")]
    [InlineData(":11434", "http://127.0.0.1:11434/")]
    [InlineData("ollama.com", "https://ollama.com/")]
    public void TryParse_AddressWithoutScheme_ReadAsOllamaReadsIt_WithANote(string destination, string expected)
    {
        var input = Input(proxies: [$"llama3.2={destination}"]);

        ConfigParser.TryParse(input, out var options, out var errors).Should().BeTrue(string.Join("; ", errors));

        options!.Connections.Should().ContainSingle().Which.BaseUri.AbsoluteUri.Should().Be(expected);
        options.Notes.Should().Equal($"--proxies \"llama3.2={destination}\": read as {expected.TrimEnd('/')}");
    }

    [Fact]
    public void TryParse_UserAndPasswordWithoutScheme_AreTheConnectionsCredentials_AndNeverPrinted()
    {
        var input = Input(proxies: ["llama3.2=admin:s3cret@gpu1.lan:8080"]);

        ConfigParser.TryParse(input, out var options, out var errors).Should().BeTrue(string.Join("; ", errors));

        var connection = options!.Connections.Should().ContainSingle().Subject;
        connection.BaseUri.AbsoluteUri.Should().Be("http://gpu1.lan:8080/");
        connection.Credentials!.AuthorizationValue.Should().Be("Basic " + Convert.ToBase64String("admin:s3cret"u8.ToArray()));
        options.Notes.Should().Equal("--proxies \"llama3.2=***@gpu1.lan:8080\": read as http://gpu1.lan:8080");
    }

    [Fact]
    public void TryParse_AnUnreadableAddressWithAPassword_ErrorHidesThePassword()
    {
        var input = Input(proxies: ["llama3.2=admin:s3cret@not a host"]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(static e => e.ToString()).Should().NotBeEmpty().And.NotContain(static e => e.Contains("s3cret", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://10.0.0.5:11434")]
    [InlineData("http://10.0.0.5:11434/")]
    [InlineData("https://gpu1.lan")]
    [InlineData("http://admin:secret@gpu1:11434")]
    public void TryParse_UrlWithScheme_NoNote(string destination)
    {
        var input = Input(proxies: [$"llama3.2={destination}"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Notes.Should().BeEmpty();
    }

    [Theory]
    [InlineData("http://10.0.0.5:11434/v1", "use http://10.0.0.5:11434, not http://10.0.0.5:11434/v1")]
    [InlineData("http://10.0.0.5:11434/api/", "use http://10.0.0.5:11434, not http://10.0.0.5:11434/api/")]
    [InlineData("https://gpu1.lan/ollama", "use https://gpu1.lan, not https://gpu1.lan/ollama")]
    [InlineData("http://h:1//", "use http://h:1, not http://h:1//")]
    [InlineData("http://h:1?x=1", "use http://h:1, not http://h:1?x=1")]
    [InlineData("http://h:1#top", "use http://h:1, not http://h:1#top")]
    [InlineData("http://admin:secret@gpu1:11434/v1", "use http://***@gpu1:11434, not http://***@gpu1:11434/v1")]
    [InlineData("10.0.0.5:11434/v1", "use http://10.0.0.5:11434, not 10.0.0.5:11434/v1")]
    [InlineData("gpu1.lan/api", "use http://gpu1.lan:11434, not gpu1.lan/api")]
    public void TryParse_UrlWithAPath_RefusedNamingTheRoot(string destination, string advice)
    {
        foreach (var input in new[]
        {
            Input(proxies: [$"llama3.2={destination}"]),
            Input(proxies: ["llama3.2=c1"], connections: [$"c1={destination}"]),
        })
        {
            ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

            var error = errors.Should().ContainSingle().Subject.ToString();
            error.Should().EndWith($": Ollama's API is at the server's root: {advice}");
            error.Should().NotContain("secret").And.NotContain("admin");
        }
    }

    [Theory]
    [InlineData("gpu1", "unknown connection id 'gpu1' (no --connection declares one; for the server of that host name, write http://gpu1:11434)")]
    [InlineData("llama3.2:8b", "unknown connection id 'llama3.2:8b'")]
    [InlineData("gpu1:70000", "unknown connection id 'gpu1:70000'")]
    [InlineData("[gpu1]:1", "unknown connection id '[gpu1]:1'")]
    [InlineData("a b", "unknown connection id 'a b'")]
    public void TryParse_NeitherIdNorAddress_UnknownId(string destination, string reason)
    {
        var input = Input(proxies: [$"llama3.2={destination}"]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(new ConfigError("--proxies", $"llama3.2={destination}", reason));
    }

    [Fact]
    public void TryParse_BareWordWithConnectionsDeclared_UnknownIdWithoutTheHostHint()
    {
        var input = Input(proxies: ["llama3.2=gpu2"], connections: ["gpu1=http://10.0.0.5:11434"]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(new ConfigError("--proxies", "llama3.2=gpu2", "unknown connection id 'gpu2'"));
    }

    // An id wins over an address of the same spelling: declared ids are what --proxy names first.
    [Theory]
    [InlineData("gpu1.lan")]
    [InlineData("10.0.0.5:11434")]
    [InlineData("localhost")]
    public void TryParse_DestinationThatIsAnId_IsThatConnection(string id)
    {
        var input = Input(proxies: [$"llama3.2={id}"], connections: [$"{id}=http://10.0.0.9:1"]);

        ConfigParser.TryParse(input, out var options, out _).Should().BeTrue();

        options!.Connections.Should().ContainSingle().Which.Should().Be(new ConnectionConfig(id, new Uri("http://10.0.0.9:1/"), IsExplicit: true));
        options.Models.Single().ConnectionIds.Should().Equal(id);
        options.Notes.Should().BeEmpty();
    }

    [Fact]
    public void TryParse_ConnectionAndLimitWithoutScheme_ReadAsUrls_EachNoted()
    {
        var input = Input(proxies: ["llama3.2=gpu1"], connections: ["gpu1=10.0.0.5"]) with
        {
            MaxConcurrency = [new ConfigEntry("10.0.0.5:11434=2", "--max-concurrency")],
        };

        ConfigParser.TryParse(input, out var options, out var errors).Should().BeTrue(string.Join("; ", errors));

        options!.Connections.Should().Equal(new ConnectionConfig("gpu1", new Uri("http://10.0.0.5:11434/"), IsExplicit: true));
        options.Concurrency.PerConnection.Should().Equal(new Dictionary<string, int> { ["gpu1"] = 2 });
        options.Notes.Should().Equal(
            "--connections \"gpu1=10.0.0.5\": read as http://10.0.0.5:11434",
            "--max-concurrency \"10.0.0.5:11434=2\": read as http://10.0.0.5:11434");
    }

    [Fact]
    public void TryParse_ConnectionBareWord_NotAUrl()
    {
        var input = Input(proxies: ["llama3.2=c1"], connections: ["c1=gpu1"]);

        ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Should().Equal(new ConfigError("--connections", "c1=gpu1", "'gpu1' is not an http(s) URL (expected ID=URL)"));
    }

    [Fact]
    public async Task Start_AddressWithoutScheme_ForwardsThere_AndLogsTheNote()
    {
        await using var server = await FakeOllamaServer.StartAsync();
        var address = server.BaseUri.Authority;
        await using var proxy = await ProxyUnderTest.StartAsync([$"llama3.2={address}"]);

        using var response = await proxy.Client.PostAsync("/api/generate", new StringContent("""{"model":"llama3.2","stream":false}""")).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await server.WaitForRequestAsync(static r => r.Path == "/api/generate").DefaultTimeout()).Should().NotBeNull();
        proxy.Logs.Lines.Should().Contain($"Information: Configuration: --proxy \"llama3.2={address}\": read as http://{address}");
    }

    private static ConfigInput Input(string[] proxies, string[]? connections = null) =>
        new(
            new ConfigEntry("localhost:11434", "--listen"),
            new ConfigEntry("info", "--level"),
            [.. proxies.Select(p => new ConfigEntry(p, "--proxies"))],
            [.. (connections ?? []).Select(c => new ConfigEntry(c, "--connections"))],
            [],
            null);
}
