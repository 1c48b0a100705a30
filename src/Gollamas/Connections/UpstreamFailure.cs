using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Connections;

/// <summary>
/// A server that gave no answer, as its client is told: 504 when it timed out, 502 when it could
/// not be reached or answered with something that is not HTTP/1.1. The one wording of these
/// failures and their status, for forwarded requests and the proxy's own questions alike.
/// </summary>
/// <param name="TimedOut">Whether the server ran out of time (a timeout or a cancellation), rather than failed.</param>
/// <param name="InvalidResponse">Whether it answered, but not in HTTP/1.1.</param>
/// <param name="Reason">The cause, for the log and the message: <see cref="Describe"/>, or the caller's own.</param>
internal readonly record struct UpstreamFailure(bool TimedOut, bool InvalidResponse, string Reason)
{
    /// <summary>504 for a timeout, else 502.</summary>
    public int StatusCode => TimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;

    /// <summary>What failed, from the exception the request to the server ended with.</summary>
    /// <param name="reason">The cause when the caller knows it better (which deadline ran out); else <see cref="Describe"/>.</param>
    public static UpstreamFailure From(Exception ex, string? reason = null) =>
        new(ex is TimeoutException or OperationCanceledException, ex is UpstreamProtocolException, reason ?? Describe(ex));

    /// <summary>The error message for the client, naming the server as clients know it (<see cref="Connection.PublicName"/>).</summary>
    public string MessageFor(string connection) => TimedOut
        ? $"gollamas: Ollama server on {connection} timed out: {Reason}"
        : $"gollamas: Ollama server on {connection} {(InvalidResponse ? "sent an invalid response" : "is unreachable")}: {Reason}";

    /// <summary>The in-band error ending a stream the server broke after its answer had started.</summary>
    public static string StreamBrokenMessage(string connection, string reason) =>
        $"gollamas: the stream from the Ollama server on {connection} broke: {reason}";

    /// <summary>
    /// The cause, in words of ours, from the exception's type and data: the first exception of
    /// the chain whose message the proxy wrote, else the innermost one it can name (a socket
    /// error, a close, a timeout). Never the runtime's message: in the published binary that is
    /// a resource key (<c>net_ssl_io_cert_chain_validation</c>, <c>IO_FileNotFound_FileName</c>).
    /// </summary>
    public static string Describe(Exception ex)
    {
        string? named = null;
        for (var current = ex; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case UpstreamProtocolException or UpstreamConnectionException or ConnectTimeoutException:
                    return current.Message;
                case SocketException socket:
                    return Describe(socket);
                case EndOfStreamException:
                    named = "the server closed the connection before answering";
                    break;
                case AuthenticationException:
                    named = "the TLS handshake failed";
                    break;
                case JsonException:
                    named = "the answer is not valid JSON";
                    break;
                case TimeoutException or OperationCanceledException:
                    named = "no answer in time";
                    break;
            }
        }

        return named ?? "the connection failed";
    }

    /// <summary>A socket error in words (the runtime's enum names and messages are not for users).</summary>
    public static string Describe(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "the connection timed out",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain or SocketError.NoRecovery => "host name not found",
        SocketError.ConnectionReset => "the server reset the connection",
        SocketError.ConnectionAborted or SocketError.OperationAborted => "the connection was aborted",
        SocketError.NetworkUnreachable or SocketError.NetworkDown or SocketError.NetworkReset => "the network is unreachable",
        SocketError.HostUnreachable or SocketError.HostDown => "the host is unreachable",
        SocketError.AddressNotAvailable => "the address is not available",
        SocketError.Shutdown or SocketError.NotConnected or SocketError.Disconnecting => "the connection was closed",
        SocketError.AccessDenied => "permission denied",
        _ => $"a network error (code {ex.NativeErrorCode.ToString(CultureInfo.InvariantCulture)})",
    };
}
