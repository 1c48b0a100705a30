using Gollamas.Diagnostics;
using Gollamas.Security;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Security;

/// <summary>
/// CORS as Ollama does it (gin-contrib/cors with wildcards): the operator's origins plus
/// Ollama's default local ones; a disallowed origin gets 403 with no body, a preflight 204.
/// An Origin equal to the Host counts as the same origin only when the Host is a name
/// <see cref="HostAllowList"/> vouches for: a page can put any name it owns in both.
/// </summary>
internal sealed class CorsPolicy
{
    private const string AllowedMethods = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS";

    // gollamas' list (Ollama's, with the OpenAI SDK's x-stainless-* headers) plus OpenAI-Beta,
    // which current Ollama also allows.
    private const string AllowedHeaders =
        "Authorization,Content-Type,User-Agent,Accept,X-Requested-With,OpenAI-Beta,"
        + "X-Stainless-Lang,X-Stainless-Package-Version,X-Stainless-Os,X-Stainless-Arch,X-Stainless-Retry-Count,"
        + "X-Stainless-Runtime,X-Stainless-Runtime-Version,X-Stainless-Async,X-Stainless-Helper-Method,"
        + "X-Stainless-Poll-Helper,X-Stainless-Custom-Poll-Interval,X-Stainless-Timeout";

    private static readonly string[] s_defaultOrigins = BuildDefaults();

    private readonly string[] _exact;
    private readonly (string Prefix, string Suffix)[] _wildcards;
    private readonly bool _allowAll;
    private readonly HostAllowList _hosts;

    /// <param name="operatorOrigins">Entries of OLLAMA_ORIGINS (or the proxy's own setting).</param>
    /// <param name="hosts">The Host names that make an Origin naming them the same origin.</param>
    public CorsPolicy(IEnumerable<string> operatorOrigins, HostAllowList hosts)
    {
        _hosts = hosts;
        var exact = new List<string>();
        var wildcards = new List<(string, string)>();
        foreach (var raw in operatorOrigins.Concat(s_defaultOrigins))
        {
            var entry = raw.Trim().ToLowerInvariant();
            if (entry.Length == 0)
            {
                continue;
            }

            if (entry == "*")
            {
                _allowAll = true;
                continue;
            }

            var star = entry.IndexOf('*', StringComparison.Ordinal);
            if (star < 0)
            {
                exact.Add(entry);
            }
            else
            {
                wildcards.Add((entry[..star], entry[(star + 1)..]));
            }
        }

        _exact = [.. exact];
        _wildcards = [.. wildcards];
    }

    /// <summary>Whether a request with this Origin may be served.</summary>
    public bool IsAllowed(string origin)
    {
        if (_allowAll)
        {
            return true;
        }

        foreach (var entry in _exact)
        {
            if (string.Equals(entry, origin, StringComparison.Ordinal))
            {
                return true;
            }
        }

        foreach (var (prefix, suffix) in _wildcards)
        {
            if (origin.Length >= prefix.Length + suffix.Length
                && origin.StartsWith(prefix, StringComparison.Ordinal)
                && origin.EndsWith(suffix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Applies the policy. Returns true when the request has been answered here (a refusal or
    /// a preflight) and must not go further.
    /// </summary>
    public bool TryAnswer(HttpContext context)
    {
        var request = context.Request;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0 || IsSameOrigin(origin, request.Host.Value))
        {
            return false;
        }

        var response = context.Response;
        if (!IsAllowed(origin))
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
            response.ContentLength = 0;
            return true;
        }

        response.Headers.AccessControlAllowOrigin = _allowAll ? "*" : origin;
        if (HttpMethods.IsOptions(request.Method))
        {
            response.Headers.AccessControlAllowMethods = AllowedMethods;
            response.Headers.AccessControlAllowHeaders = AllowedHeaders;
            response.Headers.AccessControlMaxAge = "43200";
            response.Headers.Vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
            response.StatusCode = StatusCodes.Status204NoContent;
            return true;
        }

        response.Headers.Vary = "Origin";
        response.Headers.AccessControlExposeHeaders = ProxyHeaders.Exposed;
        return false;
    }

    // gin-contrib/cors takes Origin == "http://" + Host as a same-origin request. In Ollama that
    // is safe only because allowedHostsMiddleware then refuses a foreign Host on loopback; on any
    // other listener (or with --allowed-hosts '*') a rebinding page sends its own name in both.
    // So the Host must be a local or operator-listed name, whichever listener took the request.
    private bool IsSameOrigin(string origin, string? host) =>
        !string.IsNullOrEmpty(host)
        && ((origin.StartsWith("http://", StringComparison.Ordinal) && origin.AsSpan(7).SequenceEqual(host))
            || (origin.StartsWith("https://", StringComparison.Ordinal) && origin.AsSpan(8).SequenceEqual(host)))
        && _hosts.IsAllowed(host);

    private static string[] BuildDefaults()
    {
        var origins = new List<string>();
        foreach (var host in new[] { "localhost", "127.0.0.1", "0.0.0.0" })
        {
            origins.Add($"http://{host}");
            origins.Add($"https://{host}");
            origins.Add($"http://{host}:*");
            origins.Add($"https://{host}:*");
        }

        origins.AddRange(["app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"]);
        return [.. origins];
    }
}
