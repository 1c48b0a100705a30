using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Endpoints;

/// <summary>GET/HEAD <c>/</c>: the liveness text Ollama answers (the ollama CLI probes it with HEAD).</summary>
internal static class RootEndpoint
{
    private static ReadOnlySpan<byte> Body => "Ollama is running"u8;

    public static Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = Body.Length;
        response.BodyWriter.Write(Body);
        return response.BodyWriter.FlushAsync(context.RequestAborted).AsTask();
    }
}
