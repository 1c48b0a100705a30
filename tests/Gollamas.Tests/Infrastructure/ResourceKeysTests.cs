namespace Gollamas.Tests.Infrastructure;

/// <summary>The detector the plain-words tests rely on: it must catch the keys users saw, and pass our sentences.</summary>
public sealed class ResourceKeysTests
{
    [Theory]
    [InlineData("invalid JSON in request body: ZeroDepthAtEnd, LineNumber: 0 | BytePositionInLine: 9.", "ZeroDepthAtEnd")]
    [InlineData("is unreachable: net_ssl_io_cert_chain_validation, UntrustedRoot", "net_ssl_io_cert_chain_validation")]
    [InlineData("could not be read: IO_FileNotFound_FileName", "IO_FileNotFound_FileName")]
    [InlineData("unexpected error: Arg_NullReferenceException", "Arg_NullReferenceException")]
    [InlineData("failed (BackendUnreachable); trying the next route", "BackendUnreachable")]
    [InlineData("net_io_eof", "net_io_eof")]
    public void Find_ResourceKeyOrDotNetName_ReturnsIt(string message, string key) =>
        ResourceKeys.Find(message).Should().Be(key);

    [Theory]
    [InlineData("invalid JSON in request body: unexpected end of JSON input at byte offset 9")]
    [InlineData("gollamas: Ollama server on connection 1 is unreachable: the server's TLS certificate is not trusted: give its CA with --connection-ca ID=PATH")]
    [InlineData("GOLLAMAS_PROXY is not a setting of gollamas: did you mean GOLLAMAS_PROXIES?")]
    [InlineData("options.num_ctx and keep_alive are set for llama3.2:3b")]
    [InlineData("Ollama server http://127.0.0.1:9/ failed its start-up probe: connection refused")]
    [InlineData("Content root path: /tmp/tmp.VcImbubZyG/tests/Gollamas.Tests/bin/Release/net10.0")]
    [InlineData("Configuration read from /etc/GollamasConfig/gollamas.yaml")]
    public void Find_SentenceOfOurs_ReturnsNull(string message) =>
        ResourceKeys.Find(message).Should().BeNull();
}
