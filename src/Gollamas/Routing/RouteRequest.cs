using Gollamas.Connections;

namespace Gollamas.Routing;

/// <summary>What the route choice knows of one request.</summary>
/// <param name="PromptTokens">Its prompt's size, estimated from the body (a token is about four bytes).</param>
/// <param name="Affine">The server its conversation's earlier turns went to, if one is known.</param>
/// <param name="Now">A timestamp of the proxy's clock, for cooldowns.</param>
internal readonly record struct RouteRequest(int PromptTokens, Connection? Affine, long Now)
{
    /// <summary>Bytes per token of a prompt, roughly, in the languages and JSON requests carry.</summary>
    public const int BytesPerToken = 4;

    public static int TokensOf(long bodyBytes) => (int)Math.Min(bodyBytes / BytesPerToken, int.MaxValue);
}
