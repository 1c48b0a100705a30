using System.Net.Sockets;
using Gollamas.Connections;

namespace Gollamas.Tests.Connections;

/// <summary><see cref="UpstreamFailure"/> on its own: an exception in, the status and sentence a client gets out.</summary>
public sealed class UpstreamFailureTests
{
    public static TheoryData<Exception, string?, int, string> Failures() => new()
    {
        { new ConnectTimeoutException("no connection within 500ms"), null, 504, "gollamas: Ollama server on connection 1 timed out: no connection within 500ms" },
        { new OperationCanceledException(), "no answer within 300ms", 504, "gollamas: Ollama server on connection 1 timed out: no answer within 300ms" },
        { new TaskCanceledException("GET timed out", new TimeoutException("no connection within 2 s")), null, 504, "gollamas: Ollama server on connection 1 timed out: no answer in time" },
        { new TaskCanceledException("GET timed out", new ConnectTimeoutException("no connection within 2 s")), null, 504, "gollamas: Ollama server on connection 1 timed out: no connection within 2 s" },
        { new IOException("write failed", new SocketException((int)SocketError.ConnectionReset)), null, 502, "gollamas: Ollama server on connection 1 is unreachable: the server reset the connection" },
        // The runtime's messages never pass: in the published binary they are resource keys.
        { new IOException("net_io_readfailure", new IOException("IO_EOF_ReadBeyondEOF")), null, 502, "gollamas: Ollama server on connection 1 is unreachable: the connection failed" },
        { new EndOfStreamException("IO_EOF_ReadBeyondEOF"), null, 502, "gollamas: Ollama server on connection 1 is unreachable: the server closed the connection before answering" },
        { new SocketException((int)SocketError.HostNotFound), null, 502, "gollamas: Ollama server on connection 1 is unreachable: host name not found" },
        { new SocketException((int)SocketError.TimedOut), null, 502, "gollamas: Ollama server on connection 1 is unreachable: the connection timed out" },
        { new System.Text.Json.JsonException("ExpectedStartOfValueNotFound"), null, 502, "gollamas: Ollama server on connection 1 is unreachable: the answer is not valid JSON" },
        { new HttpRequestException("GET failed", new System.Security.Authentication.AuthenticationException("net_ssl_io_cert_chain_validation, UntrustedRoot")), null, 502, "gollamas: Ollama server on connection 1 is unreachable: the TLS handshake failed" },
        { new SocketException((int)SocketError.ConnectionRefused, "connection refused"), null, 502, "gollamas: Ollama server on connection 1 is unreachable: connection refused" },
        { new UpstreamProtocolException("invalid status line"), null, 502, "gollamas: Ollama server on connection 1 sent an invalid response: invalid status line" },
        // The proxy's own requests get their failures wrapped by the handler: "unreachable", as the lists say it.
        { new HttpRequestException("GET failed", new UpstreamProtocolException("invalid status line")), null, 502, "gollamas: Ollama server on connection 1 is unreachable: invalid status line" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void From_Exception_StatusAndMessage(Exception ex, string? reason, int status, string message)
    {
        var failure = UpstreamFailure.From(ex, reason);

        failure.StatusCode.Should().Be(status);
        failure.TimedOut.Should().Be(status == 504);
        failure.MessageFor("connection 1").Should().Be(message);
    }

    [Fact]
    public void StreamBrokenMessage_NamesTheServerAndTheReason() =>
        UpstreamFailure.StreamBrokenMessage("connection 'gpu1'", "nothing for 10m").Should().Be("gollamas: the stream from the Ollama server on connection 'gpu1' broke: nothing for 10m");
}
