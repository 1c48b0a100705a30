using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>
/// GET/HEAD <c>/gollamas/</c>: the dashboard, one page embedded in the binary (no CDN, no font, no
/// other file). The page holds no data: it reads <c>/gollamas/status</c> with the key its user
/// types, so it is served without a key, and it is not allowed to load or send anything elsewhere.
/// </summary>
internal static class DashboardEndpoint
{
    // What the page may do: its own inline script and style, requests to this origin only.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; " +
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly byte[] s_page = Read();

    /// <summary>The page's size in bytes.</summary>
    public static int Size => s_page.Length;

    public static Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = s_page.Length;
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }

        response.BodyWriter.Write(s_page);
        return response.BodyWriter.FlushAsync(context.RequestAborted).AsTask();
    }

    private static byte[] Read()
    {
        using var stream = typeof(DashboardEndpoint).Assembly.GetManifestResourceStream("dashboard.html")
            ?? throw new InvalidOperationException("the dashboard page is missing from the binary");
        var page = new byte[stream.Length];
        stream.ReadExactly(page);
        return page;
    }
}
