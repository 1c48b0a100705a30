using System.Text.RegularExpressions;

namespace Gollamas.Tests.Infrastructure;

/// <summary>
/// Finds what a .NET resource key looks like where a sentence should be: the published binary is
/// built with UseSystemResourceKeys, so a runtime exception's Message there reads
/// <c>ZeroDepthAtEnd, LineNumber: 0 | BytePositionInLine: 9.</c>,
/// <c>net_ssl_io_cert_chain_validation, UntrustedRoot</c> or <c>IO_FileNotFound_FileName</c>.
/// </summary>
public static partial class ResourceKeys
{
    /// <summary>The first token of <paramref name="message"/> that looks like a resource key or a .NET name, else null.</summary>
    public static string? Find(string message)
    {
        // A path or a URL is the user's own name, whatever its case (a temporary directory such
        // as /tmp/tmp.VcImbubZyG): no resource key holds a '/'.
        var words = string.Join(' ', message.Split(' ').Where(static word => !word.Contains('/', StringComparison.Ordinal)));
        foreach (Match token in Token().Matches(words))
        {
            var text = token.Value;
            var hasUpper = text.Any(char.IsAsciiLetterUpper);
            var hasLower = text.Any(char.IsAsciiLetterLower);
            if (text.Contains('_', StringComparison.Ordinal))
            {
                // GOLLAMAS_PROXY and OLLAMA_HOST are variables; keep_alive and num_ctx are
                // Ollama's fields. Mixed case (IO_FileNotFound_FileName), the runtime's prefixes
                // and long snake chains (net_ssl_io_cert_chain_validation) are keys.
                if ((hasUpper && hasLower)
                    || text.StartsWith("net_", StringComparison.Ordinal)
                    || text.Count(static c => c == '_') >= 3)
                {
                    return text;
                }
            }
            else if (CamelCase().IsMatch(text))
            {
                return text;
            }
        }

        return null;
    }

    /// <summary>Asserts that no message of <paramref name="messages"/> holds a resource key.</summary>
    public static void ShouldHaveNone(IEnumerable<string> messages)
    {
        foreach (var message in messages)
        {
            Find(message).Should().BeNull($"a user sees only sentences of ours, not resource keys or .NET names, in: {message}");
        }
    }

    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9_]*")]
    private static partial Regex Token();

    // Two or more capitalised words run together: ZeroDepthAtEnd, UntrustedRoot, HttpRequestException.
    [GeneratedRegex(@"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$")]
    private static partial Regex CamelCase();
}
