using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gollamas.Bodies;

namespace Gollamas.Connections;

/// <summary>
/// The client behind <see cref="Connection.Invoker"/>, for the requests off the hot path (merged
/// lists, version, show, health probes): HTTP/1.1 on the server's own keep-alive pool, the one
/// forwarded requests use. It replaces <c>SocketsHttpHandler</c>, whose HTTP/2 and HTTP/3 code,
/// decompression (which links the native brotli encoder and zlib into the binary), proxy and
/// cookie support none of these requests used: without it the linux-x64 binary is 1.08 MB
/// smaller (12.23 to 11.15 MB), which brings the scratch image under 20 MB.
/// </summary>
/// <remarks>
/// <para>
/// The response body is read whole before <see cref="SendAsync"/> returns (these answers are small
/// JSON documents, bounded by <see cref="MaxBodyBytes"/>), so the channel goes back to the pool
/// even when the caller looks only at the status, as a health probe does.
/// </para>
/// <para>
/// Failures reach callers as <c>SocketsHttpHandler</c>'s did: <see cref="HttpRequestException"/>
/// (with the socket, TLS or protocol error inside) when the server cannot be reached or answers
/// with something that is not HTTP/1.1, and <see cref="TaskCanceledException"/> around a
/// <see cref="TimeoutException"/> when the connect timeout runs out.
/// </para>
/// </remarks>
/// <param name="pool">The server's keep-alive channels.</param>
/// <param name="authorization">
/// The Authorization field line (CRLF included) of a server whose URL carries credentials, else
/// empty; it replaces any Authorization of the request.
/// </param>
internal sealed class UpstreamMessageHandler(UpstreamPool pool, string authorization = "") : HttpMessageHandler
{
    /// <summary>Far above any list, version or show answer; bounds what a broken server can make the proxy hold.</summary>
    public const int MaxBodyBytes = 16 * 1024 * 1024;

    private readonly byte[] _authorization = Encoding.ASCII.GetBytes(authorization);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var head = RequestHeadWriter.RentOwn(request, _authorization, body.Length, out var headLength);
        var isHead = request.Method == HttpMethod.Head;
        UpstreamChannel? channel = null;
        try
        {
            (channel, var responseHead) = await pool.SendAsync(head.AsMemory(0, headLength), new ForwardBody(body), isHead, cancellationToken);
            var content = await ReadBodyAsync(channel, responseHead, cancellationToken);
            pool.Return(channel);
            channel = null;
            return Response(request, responseHead, content);
        }
        catch (TimeoutException ex)
        {
            // The messages are ours (UpstreamFailure.Describe): the runtime's are resource keys in
            // the published binary, and the URI may carry credentials.
            throw new TaskCanceledException($"{request.Method} {uri.AbsolutePath} timed out: {UpstreamFailure.Describe(ex)}", ex);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            throw new HttpRequestException($"{request.Method} {uri.AbsolutePath} failed: {UpstreamFailure.Describe(ex)}", ex);
        }
        finally
        {
            RequestHeadWriter.Return(head);
            channel?.Dispose();
        }
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(UpstreamChannel channel, UpstreamResponseHead head, CancellationToken cancellationToken)
    {
        if (head.Framing == BodyFraming.ContentLength && head.ContentLength > MaxBodyBytes)
        {
            throw new UpstreamProtocolException($"response body of {head.ContentLength} bytes, more than {MaxBodyBytes} allowed");
        }

        // One byte more than a declared length, so the read that finds the end needs no growth.
        var body = new ArrayBufferWriter<byte>(head.Framing == BodyFraming.ContentLength ? (int)head.ContentLength + 1 : 4096);
        while (true)
        {
            var read = await channel.ReadBodyAsync(body.GetMemory(), cancellationToken);
            if (read == 0)
            {
                return body.WrittenMemory;
            }

            body.Advance(read);
            if (body.WrittenCount > MaxBodyBytes)
            {
                throw new UpstreamProtocolException($"response body larger than {MaxBodyBytes} bytes");
            }
        }
    }

    private static HttpResponseMessage Response(HttpRequestMessage request, UpstreamResponseHead head, ReadOnlyMemory<byte> body)
    {
        var response = new HttpResponseMessage((HttpStatusCode)head.StatusCode)
        {
            Version = HttpVersion.Version11,
            RequestMessage = request,
            Content = new ReadOnlyMemoryContent(body),
        };
        foreach (var (name, value) in head.Headers)
        {
            // The body is here whole and de-framed: its content knows its own length.
            if (string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase)
                || string.Equals(name, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!response.Headers.TryAddWithoutValidation(name, value))
            {
                response.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return response;
    }
}
