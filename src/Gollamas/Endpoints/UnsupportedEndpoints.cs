using Gollamas.Errors;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// Endpoints that change a server's model store (create, push, copy, delete, blobs) or its
/// ollama.com sign-in (sign-out): a router cannot know which server the operator means, so it
/// refuses them clearly instead of guessing.
/// </summary>
internal static class UnsupportedEndpoints
{
    public static Task RefuseAsync(HttpContext context, string what) =>
        ErrorWriter.WriteAsync(
            context,
            StatusCodes.Status501NotImplemented,
            $"gollamas router doesn't support {what}; send this request to an Ollama server directly");

    /// <summary>The refusal with the reason that is not obvious from <paramref name="what"/>.</summary>
    public static Task RefuseAsync(HttpContext context, string what, string why) =>
        ErrorWriter.WriteAsync(
            context,
            StatusCodes.Status501NotImplemented,
            $"gollamas router doesn't support {what}: {why}; send this request to that Ollama server directly");
}
