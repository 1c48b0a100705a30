using System.Diagnostics;

namespace Gollamas.Diagnostics;

/// <summary>
/// What one request did, filled in as it goes (model, server, bytes, first byte) and written as
/// the access-log line when it ends. One small object per request; nothing per chunk but a sum.
/// </summary>
internal sealed class RequestRecord
{
    public long Started { get; } = Stopwatch.GetTimestamp();

    /// <summary>The request's id (<see cref="RequestId"/>): in the access log, the response and the request to Ollama.</summary>
    public string? Id { get; set; }

    /// <summary>
    /// The status a failure after the response started stands for, 0 if none: 502 for a stream
    /// the server broke, 503 for one the drain cut. The client saw the status sent (200) and an
    /// in-band error; the metrics count the request as this error instead.
    /// </summary>
    public int FailedAfterStart { get; set; }

    /// <summary>How long the request waited in connections' queues (every attempt's wait), zero if it never queued.</summary>
    public TimeSpan QueueWait { get; set; }

    /// <summary>Whether the client's spelling of the model is kept (a string per request): only for the access log.</summary>
    public bool WantsRequestedModel { get; init; }

    /// <summary>The model as the client named it.</summary>
    public string? RequestedModel { get; set; }

    /// <summary>The configured model it resolved to, or the canonical name of a running one.</summary>
    public string? ResolvedModel { get; set; }

    /// <summary>
    /// Whether <see cref="ResolvedModel"/> is not configured but routed because it runs: a name
    /// a client chose, which the metrics take only up to a bound.
    /// </summary>
    public bool ResolvedModelIsRunning { get; set; }

    /// <summary>
    /// The name of the key the request was let in with (an API key's, or an admin key's on the
    /// status and the admin actions); null when it needed none. Never the key itself.
    /// </summary>
    public string? KeyName { get; set; }

    /// <summary>Whether <see cref="KeyName"/> names an admin key.</summary>
    public bool KeyIsAdmin { get; set; }

    /// <summary>Whether the request counts against its key's limits (in flight) until it ends.</summary>
    public bool KeyLimited { get; set; }

    /// <summary>The id of the connection that answered (the last one tried).</summary>
    public string? Connection { get; set; }

    /// <summary>Body bytes forwarded to the client.</summary>
    public long BytesOut { get; set; } = -1;

    /// <summary>When the response headers left (Stopwatch ticks), 0 if they were not forwarded.</summary>
    public long FirstByte { get; set; }

    /// <summary>The endpoint as a metric label: a known path (with placeholders), else null.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Which keys of the answer hold its token counts.</summary>
    public TokenCounts TokenCounts { get; set; }

    /// <summary>Prompt tokens, from the final chunk of the answer.</summary>
    public long PromptTokens { get; set; }

    /// <summary>Generated tokens, from the final chunk of the answer.</summary>
    public long GeneratedTokens { get; set; }

    /// <summary>
    /// When the first body bytes of a streamed generation arrived (Stopwatch ticks), 0 if the
    /// answer was not one: see <see cref="TimeToFirstToken"/>.
    /// </summary>
    public long FirstToken { get; set; }

    /// <summary>
    /// Time to first token: from the request's start (<see cref="Started"/>, when the proxy began
    /// reading it) to the arrival of the first body bytes of a 2xx streamed answer (NDJSON or
    /// server-sent events) of an endpoint that counts tokens. Ollama sends nothing of such an
    /// answer, not even its head, before the first token, so this holds the whole wait the client
    /// sees: the proxy's queue, the server's, a model load and the prompt's processing. Null for an
    /// answer sent whole (<c>"stream":false</c>): its first byte comes with its last token, and that
    /// time is the request's duration already.
    /// </summary>
    public TimeSpan? TimeToFirstToken => FirstToken == 0 ? null : Stopwatch.GetElapsedTime(Started, FirstToken);

    /// <summary>
    /// Ollama's final chunk, read as the answer streams (<see cref="TokenCounts.Ollama"/> only). A
    /// field, not a property: the reader is a struct, updated where it lies.
    /// </summary>
    public FinalChunkReader FinalChunk;
}
