namespace Gollamas.Bodies;

/// <summary>
/// The outcome of decompressing a zstd body: the decompressed body (the caller disposes it), or
/// the status and sentence to answer with.
/// </summary>
internal readonly record struct ZstdResult(RequestBodyBuffer? Body, int Status, string? Problem)
{
    public static ZstdResult Fail(int status, string problem) => new(null, status, problem);
}
