using Gollamas.Config;

namespace Gollamas.Tests.Config;

/// <summary>--connection-header and --connection-ca: their forms, and errors that never print a secret.</summary>
public sealed class ConnectionExtrasParserTests
{
    private const string Secret = "Bearer s3cret";

    [Fact]
    public void AHeaderFromAVariable_GoesToItsConnection_ByIdOrUrl()
    {
        var options = Parse(
            headers: ["gpu1=Authorization=env:KEY", "http://gpu2:11434=X-Tenant=env:TENANT"],
            environment: static name => name switch { "KEY" => Secret, "TENANT" => "t7", _ => null });

        var gpu1 = options.Connections.Single(static c => c.Id == "gpu1");
        gpu1.Headers.Should().ContainSingle().Which.Should().Be(new ConnectionHeader("Authorization", Secret, "env:KEY"));
        options.Connections.Single(static c => c.BaseUri.Host == "gpu2").Headers.Single().Value.Should().Be("t7");
        gpu1.ToString().Should().NotContain("s3cret", "a connection's description never carries the value");
    }

    [Theory]
    [InlineData("gpu1=Authorization=Bearer s3cret", "the value must be read from a variable or a file, never written here")]
    [InlineData("gpu1=Authorization=env:UNSET", "the variable UNSET is not set or empty")]
    [InlineData("gpu1=Authorization=file:/nonexistent/s3cret", "cannot read /nonexistent/s3cret (file not found)")]
    [InlineData("gpu1=Host=env:KEY", "the proxy sets Host itself")]
    [InlineData("gpu1=Bad Name=env:KEY", "'Bad Name' is not a header field name")]
    [InlineData("nowhere=Authorization=env:KEY", "unknown connection id 'nowhere'")]
    [InlineData("gpu1=Authorization", "missing '='")]
    [InlineData("withcredentials=Authorization=env:KEY", "has a user and password in its URL")]
    [InlineData("gpu1=X-Value=env:NEWLINE", "holds a control character")]
    public void ABadHeader_IsReported_WithoutTheSecret(string entry, string problem)
    {
        var errors = Errors(headers: [entry], environment: static name => name switch { "KEY" => Secret, "NEWLINE" => "a\nb", _ => null });

        errors.Should().ContainSingle().Which.Should().Contain(problem);
        errors.Single().Should().NotContain("Bearer s3cret");
    }

    [Fact]
    public void TheSameHeaderTwice_ForOneConnection_IsReported()
    {
        var errors = Errors(headers: ["gpu1=Authorization=env:KEY", "gpu1=authorization=env:KEY"], environment: static _ => Secret);

        errors.Should().ContainSingle().Which.Should().Contain("connection 'gpu1' already has a authorization header");
    }

    [Fact]
    public void ACaBundle_OnAnHttpConnection_OrUnreadable_IsReported()
    {
        var errors = Errors(cas: ["gpu1=/etc/hostname", "tls=/nonexistent/ca.pem"]);

        errors.Should().HaveCount(2);
        errors[0].Should().Contain("connection 'gpu1' is not https");
        errors[1].Should().Contain("cannot read /nonexistent/ca.pem (file not found)");
    }

    [Fact]
    public void AFileWithoutACertificate_IsReported()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "not a certificate\n");

            Errors(cas: [$"tls={file}"]).Should().ContainSingle().Which.Should().Contain("holds no PEM certificate");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static GollamasOptions Parse(string[]? headers = null, string[]? cas = null, Func<string, string?>? environment = null)
    {
        ConfigParser.TryParse(Input(headers, cas, environment), out var options, out var errors).Should().BeTrue(string.Join("; ", errors));
        return options!;
    }

    private static List<string> Errors(string[]? headers = null, string[]? cas = null, Func<string, string?>? environment = null)
    {
        ConfigParser.TryParse(Input(headers, cas, environment), out _, out var errors).Should().BeFalse();
        return [.. errors.Select(static e => e.ToString())];
    }

    private static ConfigInput Input(string[]? headers, string[]? cas, Func<string, string?>? environment) =>
        new ConfigInput
        {
            Listen = new ConfigEntry("127.0.0.1:0", "--listen"),
            Proxies = [new ConfigEntry("llama3.2=gpu1", "--proxy"), new ConfigEntry("phi4=http://gpu2:11434", "--proxy"), new ConfigEntry("qwen3=tls", "--proxy"), new ConfigEntry("m=withcredentials", "--proxy")],
            Connections = [new ConfigEntry("gpu1=http://gpu1:11434", "--connection"), new ConfigEntry("tls=https://gpu3:11434", "--connection"), new ConfigEntry("withcredentials=http://u:p@gpu4:11434", "--connection")],
            GetEnvironmentVariable = environment ?? (static _ => null),
        }
        .With(Settings.ConnectionHeaders, (headers ?? []).Select(static h => new ConfigEntry(h, "--connection-header")).ToArray())
        .With(Settings.ConnectionCas, (cas ?? []).Select(static c => new ConfigEntry(c, "--connection-ca")).ToArray());
}
