using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Json;

/// <summary>
/// Writes a whole JSON response the proxy makes itself, with its Content-Length: the body is
/// written into a pooled buffer first, so clients need no chunked decoding and the access log
/// and metrics know its size.
/// </summary>
internal static class JsonResponse
{
    public static async Task WriteAsync<TState>(HttpContext context, int statusCode, TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, JsonWriting.Options))
        {
            write(writer, state);
        }

        var response = context.Response;
        response.StatusCode = statusCode;
        response.ContentType = JsonWriting.JsonContentType;
        response.ContentLength = buffer.WrittenCount;
        await response.BodyWriter.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }
}
