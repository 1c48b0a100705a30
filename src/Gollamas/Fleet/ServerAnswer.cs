using System.Text.Json;

namespace Gollamas.Fleet;

/// <summary>
/// How a server answered one of the proxy's own questions (<see cref="ServerQuery"/>): its JSON
/// document, or why there is none. The holder disposes it.
/// </summary>
internal sealed class ServerAnswer : IDisposable
{
    private ServerAnswer(JsonDocument? document, int status, string? problem, bool reached)
    {
        Document = document;
        Status = status;
        Problem = problem;
        Reached = reached;
    }

    /// <summary>The answer's JSON, when the server answered 2xx with JSON.</summary>
    public JsonDocument? Document { get; }

    /// <summary>The answer's status; 0 when there was none.</summary>
    public int Status { get; }

    /// <summary>Why there is no document, in words of ours; null when there is one (or the connection was retired).</summary>
    public string? Problem { get; }

    /// <summary>Whether the server answered at all (any status).</summary>
    public bool Reached { get; }

    /// <summary>Whether the connection was retired before it was asked: nobody needs the answer.</summary>
    public bool Retired => !Reached && Problem is null;

    public static ServerAnswer Json(JsonDocument document, int status) => new(document, status, null, reached: true);

    public static ServerAnswer Refused(int status, string problem) => new(null, status, problem, reached: true);

    public static ServerAnswer Unreached(string problem) => new(null, 0, problem, reached: false);

    public static ServerAnswer NotAsked { get; } = new(null, 0, null, reached: false);

    public void Dispose() => Document?.Dispose();
}
