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

    /// <summary>The innermost message, which names the real cause (refused, reset, timed out).</summary>
    public static string Describe(Exception ex)
    {
        if (ex is TimeoutException)
        {
            return ex.Message;
        }

        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner is TimeoutException or OperationCanceledException && ex is not HttpRequestException
            ? "no answer in time"
            : inner.Message;
    }
}
