using System.Globalization;
using System.Text.Json;
using Gollamas.Connections;
using Gollamas.Diagnostics;

namespace Gollamas.Fleet;

/// <summary>
/// One GET of the proxy's own to a server (<c>/api/tags</c>, <c>/api/version</c>) on the
/// connection's client (<see cref="Connection.Invoker"/>, its pool), held as a use of the
/// connection and bounded by a timeout, its JSON answer read whole. Every failure is a value.
/// </summary>
internal static class ServerQuery
{
    public static async Task<ServerAnswer> GetJsonAsync(Connection connection, string path, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!connection.TryAcquire())
        {
            return ServerAnswer.NotAsked;
        }

        try
        {
            return await AskAsync(connection, path, timeout, time, cancellationToken);
        }
        finally
        {
            connection.Release();
        }
    }

    private static async Task<ServerAnswer> AskAsync(Connection connection, string path, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var status = 0;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, connection.CreateUri(path, null));
            using var response = await connection.Invoker.SendAsync(request, linked.Token);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                return ServerAnswer.Refused(status, $"{path} answered {status.ToString(CultureInfo.InvariantCulture)}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(linked.Token);
            return ServerAnswer.Json(await JsonDocument.ParseAsync(body, default, linked.Token), status);
        }
        catch (JsonException)
        {
            return ServerAnswer.Refused(status, $"{path} answered with something that is not JSON");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return ServerAnswer.Unreached(deadline.IsCancellationRequested
                ? $"no answer within {GoDuration.Format(timeout)}"
                : UpstreamFailure.Describe(ex));
        }
    }
}
