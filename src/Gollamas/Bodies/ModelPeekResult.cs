namespace Gollamas.Bodies;

/// <summary>
/// Outcome of a peek: the status, where the model's JSON string token sits in the body (so it
/// can be replaced), how many chars of the unescaped name were written to the caller's buffer,
/// and, for invalid JSON, the parser's message.
/// </summary>
internal readonly record struct ModelPeekResult(PeekStatus Status, int TokenStart, int TokenLength, int NameLength, string? Detail = null)
{
    public static ModelPeekResult Fail(PeekStatus status, string? detail = null) => new(status, 0, 0, 0, detail);
}
