using Microsoft.Extensions.Primitives;

namespace Gollamas.Bodies;

/// <summary>
/// Finds the <c>model</c> field of a <c>multipart/form-data</c> body held whole in memory: a
/// <see cref="FormModelScan"/> fed the body as one chunk.
/// </summary>
internal static class FormModelPeek
{
    /// <summary>
    /// Scans <paramref name="body"/>; the value is written to <paramref name="nameBuffer"/>, which
    /// must hold <see cref="ModelPeek.MaxNameChars"/> chars. A form Go would read otherwise, or
    /// not at all, is <see cref="PeekStatus.InvalidForm"/>, the detail being the client's message.
    /// </summary>
    /// <param name="contentType">Every value of the request's Content-Type header.</param>
    public static ModelPeekResult Peek(ReadOnlySpan<byte> body, StringValues contentType, Span<char> nameBuffer)
    {
        using var scan = new FormModelScan(contentType);
        scan.Feed(body);
        return scan.Complete(nameBuffer);
    }
}
