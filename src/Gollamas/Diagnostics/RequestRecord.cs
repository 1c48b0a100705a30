using System.Diagnostics;

namespace Gollamas.Diagnostics;

/// <summary>
/// What one request did, filled in as it goes (model, server, bytes, first byte) and written as
/// the access-log line when it ends. One small object per request; nothing per chunk but a sum.
/// </summary>
internal sealed class RequestRecord
{
    public long Started { get; } = Stopwatch.GetTimestamp();

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
}
