using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gollamas.Bodies;
using Gollamas.Connections;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Connections;

/// <summary>
/// The proxy's own HTTP/1.1 client (UpstreamChannel, UpstreamPool) end to end: client → proxy → a server that
/// writes exact bytes. Every test asserts the exact bytes the client receives and, where it matters, what the
/// server received. The spliced-body tests drive one UpstreamChannel directly, so the body they send is
/// exactly the one built.
/// </summary>
public sealed class UpstreamChannelTests
{
    private const string ChatBody = """{"model":"llama3.2","stream":true}""";
    private const string Ndjson = "application/x-ndjson";

    // ---- 1. Content-Length ----

    [Fact]
    public async Task ContentLength_BodyAndUpstreamHeaders_ReachTheClientIntact()
    {
        const string body = """{"model":"llama3.2","message":{"role":"assistant","content":"hi"},"done":true}""";
        await using var backend = await CannedAsync(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nX-Upstream: 1\r\n" +
            $"Content-Length: {body.Length}\r\n\r\n{body}");

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("X-Upstream").Should().Equal("1");
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        response.Content.Headers.ContentLength.Should().Be(body.Length);
        (await response.Content.ReadAsStringAsync()).Should().Be(body);
    }

    [Fact]
    public async Task ContentLength_OneMebibyteBody_ReachesTheClientIntact()
    {
        var body = Pattern(1024 * 1024);
        await using var backend = await BehindProxyAsync(async (stream, ct) =>
        {
            await RawLoopbackServer.WriteAsciiAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\n\r\n", ct);
            await stream.WriteAsync(body, ct);
        });

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(body);
    }

    [Fact]
    public async Task ContentLength_SentTwiceWithTheSameValue_IsAcceptedAndReachesTheClientOnce()
    {
        // RFC 9112 §6.3: identical repeated Content-Length values may be taken as one.
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentLength.Should().Be(5);
        (await response.Content.ReadAsStringAsync()).Should().Be("hello");
    }

    [Fact]
    public async Task ChunkedWithAContentLengthToo_ChunkedWinsAndNoContentLengthReachesTheClient()
    {
        // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; a proxy must drop the Content-Length.
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.TransferEncodingChunked.Should().BeTrue("the client gets no Content-Length, so its hop is chunked");
        response.Content.Headers.NonValidated.Contains("Content-Length").Should().BeFalse();
        (await response.Content.ReadAsStringAsync()).Should().Be("hello");
    }

    [Fact]
    public async Task TransferEncodingNotEndingInChunked_BodyIsReadUntilCloseDespiteAContentLength()
    {
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nTransfer-Encoding: chunked, identity\r\n\r\nok and the rest");

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("ok and the rest");
    }

    [Fact]
    public async Task HeaderValueWithNonAsciiBytes_502NamingTheServer()
    {
        // Kestrel cannot write such a value to the client; the proxy must not fail with a bare 500.
        await using var backend = await BehindProxyAsync(async (stream, ct) =>
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nX-Name: caf\u00c3\u00a9\r\nContent-Length: 0\r\n\r\n"), ct);
            await stream.FlushAsync(ct);
        });

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should().Be(InvalidResponse("invalid header line"));
    }

    // ---- 2./3. Chunked ----

    [Fact]
    public async Task Chunked_ExtensionsUpperCaseHexTrailerAndAOneMebibyteChunk_ClientGetsTheConcatenatedData()
    {
        var big = Pattern(1024 * 1024);
        var first = "hello"u8.ToArray();
        var second = Encoding.ASCII.GetBytes("abcdefghijklmnopqrstuvwxyz"); // 0x1A bytes
        await using var backend = await BehindProxyAsync(async (stream, ct) =>
        {
            await RawLoopbackServer.WriteAsciiAsync(stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
                "5;name=value\r\nhello\r\n" +
                "1A ; a=1;b=\"x;y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n" +
                "100000\r\n", ct);
            await stream.WriteAsync(big, ct);
            await RawLoopbackServer.WriteAsciiAsync(stream, "\r\n0;last\r\nX-Checksum: abc\r\n\r\n", ct);
        });

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal([.. first, .. second, .. big]);
    }

    [Fact]
    public async Task Chunked_ResponseWrittenOneByteAtATime_ReachesTheClientIntact()
    {
        const string response =
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nX-Upstream: 1\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "10;ext=1\r\n{\"response\":\"a\"}\r\n" +
            "B\r\n{\"done\":1}\n\r\n" +
            "0\r\nX-T: 1\r\n\r\n";
        await using var backend = await BehindProxyAsync(async (stream, ct) =>
        {
            foreach (var b in Encoding.ASCII.GetBytes(response))
            {
                await stream.WriteAsync(new[] { b }, ct);
                await stream.FlushAsync(ct);
            }
        });

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        answer.Headers.GetValues("X-Upstream").Should().Equal("1");
        answer.Content.Headers.ContentType!.MediaType.Should().Be(Ndjson);
        (await answer.Content.ReadAsStringAsync()).Should().Be("{\"response\":\"a\"}{\"done\":1}\n");
    }

    [Fact]
    public async Task ContentLength_ResponseWrittenOneByteAtATime_ReachesTheClientIntact()
    {
        const string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"done\":1}\n";
        await using var backend = await BehindProxyAsync(async (stream, ct) =>
        {
            foreach (var b in Encoding.ASCII.GetBytes(response))
            {
                await stream.WriteAsync(new[] { b }, ct);
                await stream.FlushAsync(ct);
            }
        });

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        (await answer.Content.ReadAsStringAsync()).Should().Be("{\"done\":1}\n");
    }

    // ---- 4. Read until close ----

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")]
    public async Task NoLengthNoChunking_BodyIsReadUntilTheServerCloses(string head)
    {
        await using var backend = await BehindProxyAsync(async (stream, ct) =>
        {
            await RawLoopbackServer.WriteAsciiAsync(stream, head + "first part, ", ct);
            await RawLoopbackServer.WriteAsciiAsync(stream, "second part", ct);
        });

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("first part, second part");
    }

    // ---- 5. Interim responses ----

    [Fact]
    public async Task InterimResponses_AreSkippedAndTheFinalStatusReachesTheClient()
    {
        await using var backend = await BehindProxyAsync(async (stream, ct) =>
        {
            await RawLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 100 Continue\r\n\r\n", ct);
            await RawLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n", ct);
            await RawLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok", ct);
        });

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Headers.Contains("Link").Should().BeFalse("the 103's fields belong to the interim response");
        (await response.Content.ReadAsStringAsync()).Should().Be("ok");
    }

    [Fact]
    public async Task InterimResponse_InTheSameWriteAsTheFinalHead_IsSkipped()
    {
        await using var backend = await CannedAsync("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 33\r\n\r\n{\"error\":\"model 'x' not found\"}\n\n");

        using var response = await PostChatAsync(backend.Proxy);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).Should().Be("{\"error\":\"model 'x' not found\"}\n\n");
    }

    [Fact]
    public async Task InterimResponses_TenAreSkippedAnEleventhIsA502()
    {
        var ten = string.Concat(Enumerable.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 10));
        const string final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        var served = 0;
        await using var backend = await BehindProxyAsync((stream, ct) => RawLoopbackServer.WriteAsciiAsync(
            stream, Interlocked.Increment(ref served) == 1 ? ten + final : ten + "HTTP/1.1 102 Processing\r\n\r\n" + final, ct));

        using var accepted = await PostChatAsync(backend.Proxy);
        (await accepted.Content.ReadAsStringAsync()).Should().Be("ok");
        using var refused = await PostChatAsync(backend.Proxy);

        refused.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await refused.Content.ReadAsStringAsync()).Should().Be(InvalidResponse("too many interim (1xx) responses"));
    }

    [Fact]
    public async Task SwitchingProtocolsNobodyAskedFor_502NamingTheServer()
    {
        await using var backend = await CannedAsync("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await answer.Content.ReadAsStringAsync()).Should().Be(InvalidResponse("unexpected 101 Switching Protocols"));
    }

    // ---- 6. Keep-alive ----

    [Fact]
    public async Task KeepAlive_SequentialRequestsToKestrel_TravelOnOneConnection()
    {
        await using var fake = await FakeOllamaServer.StartAsync();
        fake.Map("POST", "/api/chat", (context, _) =>
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync(context.Connection.Id);
        });
        await using var proxy = await StartProxyAsync(fake.BaseUri);

        using var first = await PostChatAsync(proxy);
        var firstConnection = await first.Content.ReadAsStringAsync();
        using var second = await PostChatAsync(proxy);
        var secondConnection = await second.Content.ReadAsStringAsync();

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        firstConnection.Should().NotBeEmpty();
        secondConnection.Should().Be(firstConnection);
        fake.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task KeepAlive_StreamedKestrelResponses_TravelOnOneConnection()
    {
        await using var fake = await FakeOllamaServer.StartAsync();
        fake.Map("POST", "/api/chat", async (context, _) =>
        {
            context.Response.ContentType = Ndjson;
            await context.Response.StartAsync();
            await context.Response.WriteAsync("{\"c\":\"" + context.Connection.Id + "\"}\n");
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync("{\"done\":true}\n");
        });
        await using var proxy = await StartProxyAsync(fake.BaseUri);

        using var first = await PostChatAsync(proxy);
        var firstBody = await first.Content.ReadAsStringAsync();
        using var second = await PostChatAsync(proxy);
        var secondBody = await second.Content.ReadAsStringAsync();

        firstBody.Should().EndWith("\"}\n{\"done\":true}\n");
        secondBody.Should().Be(firstBody);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n")]
    public async Task KeepAlive_CompleteResponse_NextRequestReusesTheConnection(string response)
    {
        await using var server = KeepAliveLoopbackServer.Start(async (_, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, response, ct);
            return true;
        });
        await using var proxy = await StartProxyAsync(server.BaseUri);

        using (var first = await PostChatAsync(proxy))
        {
            ((int)first.StatusCode).Should().BeOneOf(200, 204);
        }

        using var second = await PostChatAsync(proxy);

        ((int)second.StatusCode).Should().BeOneOf(200, 204);
        (await second.Content.ReadAsStringAsync()).Should().Be(response.Contains("204", StringComparison.Ordinal) ? "" : "ok");
        server.Requests.Select(static r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (1, 2));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")] // close in any field wins
    public async Task KeepAlive_ServerSaysClose_NextRequestOpensANewConnectionAndTheOldOneIsClosed(string response)
    {
        // The server keeps the socket open anyway: only the proxy's reading of the head can avoid reusing it.
        await using var server = KeepAliveLoopbackServer.Start(async (_, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, response, ct);
            return true;
        });
        await using var proxy = await StartProxyAsync(server.BaseUri);

        using (var first = await PostChatAsync(proxy))
        {
            (await first.Content.ReadAsStringAsync()).Should().Be("ok");
        }

        using var second = await PostChatAsync(proxy);

        second.StatusCode.Should().Be(HttpStatusCode.OK);
        (await second.Content.ReadAsStringAsync()).Should().Be("ok");
        server.Requests.Select(static r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (2, 1));
        await server.WhenPeerClosedAsync(1).DefaultTimeout();
    }

    [Fact]
    public async Task KeepAlive_ServerSentBytesAfterTheBody_ConnectionIsNotReused()
    {
        await using var server = KeepAliveLoopbackServer.Start(async (_, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", ct);
            return true;
        });
        await using var proxy = await StartProxyAsync(server.BaseUri);

        using (var first = await PostChatAsync(proxy))
        {
            (await first.Content.ReadAsStringAsync()).Should().Be("ok");
        }

        using var second = await PostChatAsync(proxy);

        (await second.Content.ReadAsStringAsync()).Should().Be("ok");
        server.Requests.Select(static r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (2, 1));
    }

    [Fact]
    public async Task KeepAlive_ConnectionCloseFromTheRawServer_NextRequestSucceedsOnANewConnection()
    {
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");

        using (var first = await PostChatAsync(backend.Proxy))
        {
            (await first.Content.ReadAsStringAsync()).Should().Be("ok");
        }

        using var second = await PostChatAsync(backend.Proxy);

        (await second.Content.ReadAsStringAsync()).Should().Be("ok");
        backend.Server.Requests.Should().HaveCount(2);
    }

    // ---- 6b. Bytes nobody asked for ----

    [Fact]
    public async Task KeepAlive_ServerSendsAResponseOnTheIdleConnection_NextRequestGetsItsOwnAnswerOnANewConnection()
    {
        // Issue 9: reused within a second, the idle connection handed the stray response to the next
        // request, that request's answer to the one after, and so on.
        var strayGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var straySent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            var answer = $"answer {request.Connection}.{request.IndexOnConnection}";
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {answer.Length}\r\n\r\n{answer}", ct);
            if (request is { Connection: 1, IndexOnConnection: 1 })
            {
                await strayGate.Task.WaitAsync(ct);
                await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray", ct);
                straySent.SetResult();
            }

            return true;
        });
        await using var proxy = await StartProxyAsync(server.BaseUri);
        using (var first = await PostChatAsync(proxy))
        {
            (await first.Content.ReadAsStringAsync()).Should().Be("answer 1.1");
        }

        strayGate.SetResult();
        await straySent.Task.DefaultTimeout();

        using var second = await PostChatAsync(proxy);
        using var third = await PostChatAsync(proxy);

        (await second.Content.ReadAsStringAsync()).Should().Be("answer 2.1");
        (await third.Content.ReadAsStringAsync()).Should().Be("answer 2.2");
        server.Requests.Select(static r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (2, 1), (2, 2));
        await server.WhenPeerClosedAsync(1).DefaultTimeout();
        proxy.Logs.Lines.Where(static l => l.Contains("connection to", StringComparison.Ordinal)).Should().Equal(
            $"Debug: Closed an idle connection to {server.BaseUri}: the server sent bytes or closed it while it was idle");
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")]
    public async Task KeepAlive_AnExtraResponseInTheSameWriteAsTheAnswer_NextRequestGetsItsOwnAnswerOnANewConnection(string firstWrite)
    {
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(
                stream, request.Connection == 1 ? firstWrite : "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond", ct);
            return true;
        });
        await using var proxy = await StartProxyAsync(server.BaseUri);
        using (var first = await PostChatAsync(proxy))
        {
            first.IsSuccessStatusCode.Should().BeTrue();
        }

        using var second = await PostChatAsync(proxy);

        (await second.Content.ReadAsStringAsync()).Should().Be("second");
        server.Requests.Select(static r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (2, 1));
        await server.WhenPeerClosedAsync(1).DefaultTimeout();

        // Found in the read buffer as the response ends, or (a body read straight into the caller's buffer, no
        // further than its length) on the socket at the next reuse: either way closed, and said once.
        proxy.Logs.Lines.Where(static l => l.Contains("connection to", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().BeOneOf(
                $"Debug: Closed a connection to {server.BaseUri}: the server sent bytes after the end of the response",
                $"Debug: Closed an idle connection to {server.BaseUri}: the server sent bytes or closed it while it was idle");
    }

    // ---- 7. Stale pooled connections ----

    [Fact]
    public async Task Stale_ServerClosedThePooledConnectionWhileIdle_NextRequestSucceeds()
    {
        // Keep-alive semantics in the head, but the raw server closes after each response.
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");

        using (var first = await PostChatAsync(backend.Proxy))
        {
            (await first.Content.ReadAsStringAsync()).Should().Be("ok");
        }

        using var second = await PostChatAsync(backend.Proxy);

        second.StatusCode.Should().Be(HttpStatusCode.OK);
        (await second.Content.ReadAsStringAsync()).Should().Be("ok");
        backend.Server.Requests.Should().HaveCount(2, "the closed connection carried no second request; one new connection did");
    }

    [Fact]
    public async Task Stale_PooledConnectionClosedWhenTheRequestArrives_IsRetriedOnceOnAFreshConnection()
    {
        // Connection 1 answers its first request, then closes without answering its second (the race the FIN
        // check cannot see); connection 2 answers.
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            if (request is { Connection: 1, IndexOnConnection: 2 })
            {
                return false;
            }

            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ct);
            return true;
        });
        await using var proxy = await StartProxyAsync(server.BaseUri);

        using (var first = await PostChatAsync(proxy))
        {
            (await first.Content.ReadAsStringAsync()).Should().Be("ok");
        }

        using var second = await PostChatAsync(proxy);

        second.StatusCode.Should().Be(HttpStatusCode.OK);
        (await second.Content.ReadAsStringAsync()).Should().Be("ok");
        server.Requests.Select(static r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (1, 2), (2, 1));
        server.Requests.Select(static r => r.Body.Length).Should().Equal(ChatBody.Length, ChatBody.Length, ChatBody.Length);
    }

    [Fact]
    public async Task Stale_RetryOnAFreshConnectionAlsoClosesWithoutAnswer_502AndNoFurtherAttempt()
    {
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            if (request is not { Connection: 1, IndexOnConnection: 1 })
            {
                return false;
            }

            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ct);
            return true;
        });
        await using var proxy = await StartProxyAsync(server.BaseUri);

        using (var first = await PostChatAsync(proxy))
        {
            (await first.Content.ReadAsStringAsync()).Should().Be("ok");
        }

        using var second = await PostChatAsync(proxy);

        second.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await second.Content.ReadAsStringAsync()).Should().Be(Unreachable("the server closed the connection before answering"));
        server.Requests.Select(static r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (1, 2), (2, 1));
    }

    [Fact]
    public async Task Stale_PooledConnectionAnswersGarbage_IsNotRetried()
    {
        // A response byte came: the server saw the request, so it must not be sent again.
        await using var server = KeepAliveLoopbackServer.Start(async (request, stream, ct) =>
        {
            await KeepAliveLoopbackServer.WriteAsciiAsync(stream, request.IndexOnConnection == 1 ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" : "garbage\r\n\r\n", ct);
            return true;
        });
        await using var proxy = await StartProxyAsync(server.BaseUri);

        using (var first = await PostChatAsync(proxy))
        {
            (await first.Content.ReadAsStringAsync()).Should().Be("ok");
        }

        using var second = await PostChatAsync(proxy);

        second.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await second.Content.ReadAsStringAsync()).Should().Be(InvalidResponse("invalid status line"));
        server.Requests.Select(static r => (r.Connection, r.IndexOnConnection)).Should().Equal((1, 1), (1, 2));
    }

    // ---- 8. Invalid responses ----

    [Theory]
    [InlineData("garbage\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 -20 OK\r\nContent-Length: 0\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 +20 OK\r\nContent-Length: 0\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 099 OK\r\nContent-Length: 0\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n", "invalid status line")]
    [InlineData("\r\n\r\n", "invalid status line")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\n: no name\r\nContent-Length: 0\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Space : a\r\nContent-Length: 0\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nBad Name: a\r\nContent-Length: 0\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Ctl: a\u0001b\r\nContent-Length: 0\r\n\r\n", "invalid header line")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\nok", "invalid Content-Length")]
    public async Task InvalidResponseHead_502NamingTheServer(string response, string reason)
    {
        await using var backend = await CannedAsync(response);

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        answer.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await answer.Content.ReadAsStringAsync()).Should().Be(InvalidResponse(reason));
        backend.Server.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task InvalidResponseHead_OverSixtyFourKibibytes_502NamingTheServer()
    {
        var huge = "HTTP/1.1 200 OK\r\nX-Big: " + new string('a', 70 * 1024) + "\r\nContent-Length: 0\r\n\r\n";
        await using var backend = await CannedAsync(huge);

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await answer.Content.ReadAsStringAsync()).Should().Be(InvalidResponse("response head larger than 64 KiB"));
    }

    [Fact]
    public async Task ResponseHead_JustUnderSixtyFourKibibytes_IsAccepted()
    {
        var value = new string('a', 60 * 1024);
        await using var backend = await CannedAsync($"HTTP/1.1 200 OK\r\nX-Big: {value}\r\nContent-Length: 2\r\n\r\nok");

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        answer.Headers.GetValues("X-Big").Should().Equal(value);
        (await answer.Content.ReadAsStringAsync()).Should().Be("ok");
    }

    [Theory]
    [InlineData("zz\r\n", "", "invalid chunk size")]
    [InlineData("\r\n", "", "invalid chunk size")]
    [InlineData("-1\r\n", "", "invalid chunk size")]
    [InlineData("0x5\r\n", "", "invalid chunk size")]
    [InlineData("3\r\nabcXY", "abc\n", "chunk data not followed by CRLF")] // the data came whole; its end did not
    public async Task InvalidChunkedFraming_AfterTheResponseStarted_GoodDataThenAnInBandErrorLine(string badChunk, string passed, string reason)
    {
        // Head, a good chunk and the bad framing arrive in one write: the good chunk still reaches the client.
        const string line = "{\"response\":\"a\",\"done\":false}\n";
        await using var backend = await BehindProxyAsync(async (stream, ct) =>
        {
            await RawLoopbackServer.WriteAsciiAsync(stream,
                $"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n{line.Length:X}\r\n{line}\r\n{badChunk}", ct);
            await Task.Delay(Timeout.Infinite, ct); // the proxy must give up on its own
        });

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        answer.Content.Headers.ContentType!.MediaType.Should().Be(Ndjson);
        (await answer.Content.ReadAsStringAsync()).Should().Be(line + passed + InBandError(reason));
    }

    // ---- 9. Connection ends early ----

    [Fact]
    public async Task ServerClosesAfterTheHeadAndOneChunk_ClientGetsTheChunkThenAnInBandErrorLine()
    {
        const string line = "{\"response\":\"a\",\"done\":false}\n";
        await using var backend = await CannedAsync($"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n{line.Length:x}\r\n{line}\r\n");

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        (await answer.Content.ReadAsStringAsync()).Should().Be(line + InBandError("the server closed the connection before the end of the response body"));
    }

    [Fact]
    public async Task ServerClosesInTheMiddleOfAChunk_ChunkPartThenErrorOnAFreshLine()
    {
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{\"response\":");

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        (await answer.Content.ReadAsStringAsync()).Should().Be("{\"response\":\n" + InBandError("the server closed the connection before the end of the response body"));
    }

    [Fact]
    public async Task ServerClosesBeforeTheWholeContentLengthBody_ClientResponseIsAborted()
    {
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"done\":");

        // A JSON body cannot carry an in-band error: the client connection is aborted, so the client sees a
        // failure (at the head or in the body, depending on when the reset overtakes the bytes) and never a
        // silently short body.
        var read = async () =>
        {
            using var answer = await PostChatAsync(backend.Proxy);
            return await answer.Content.ReadAsByteArrayAsync();
        };

        await read.Should().ThrowAsync<HttpRequestException>();
        backend.Server.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task ServerClosesBeforeAnyByteOnAFreshConnection_502AndNoRetry()
    {
        await using var backend = await BehindProxyAsync(static (_, _) => Task.CompletedTask);

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await answer.Content.ReadAsStringAsync()).Should().Be(Unreachable("the server closed the connection before answering"));
        backend.Server.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task ServerClosesInTheMiddleOfTheHead_502AndNoRetry()
    {
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Le");

        using var answer = await PostChatAsync(backend.Proxy);

        answer.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await answer.Content.ReadAsStringAsync()).Should().Be(Unreachable("the connection closed in the middle of the response head"));
        backend.Server.Requests.Should().HaveCount(1);
    }

    // ---- 10. The request the server receives ----

    [Fact]
    public async Task Request_LineHostLengthHeadersAndBody_AsTheServerReceivesThem()
    {
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        var body = """{"model":"llama3.2","messages":[{"role":"user","content":"héllo"}],"stream":false}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Request-Id", "abc-123");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-test");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.ConnectionClose = false;

        using var response = await backend.Proxy.Client.SendAsync(request).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await backend.Server.WaitForRequestAsync().DefaultTimeout();
        var bodyBytes = Encoding.UTF8.GetBytes(body);
        received.Head.Split("\r\n")[0].Should().Be("POST /api/chat HTTP/1.1");
        received.Headers["Host"].Should().Be(backend.Server.BaseUri.Authority);
        received.Headers["Content-Length"].Should().Be(bodyBytes.Length.ToString(CultureInfo.InvariantCulture));
        received.Headers["Content-Type"].Should().Be("application/json; charset=utf-8");
        received.Headers["X-Request-Id"].Should().Be("abc-123");
        received.Headers["Authorization"].Should().Be("Bearer sk-test");
        received.Headers.Should().NotContainKey("Transfer-Encoding");
        received.Headers.Should().NotContainKey("Connection");
        received.Head.Split("\r\n").Count(static l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase)).Should().Be(1);
        received.Head.Split("\r\n").Count(static l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Should().Be(1);
        received.Body.Should().Equal(bodyBytes);
    }

    [Theory]
    [InlineData("/api/chat", "POST /api/chat HTTP/1.1")]
    [InlineData("/api/chat?trace=1&x=%20y", "POST /api/chat?trace=1&x=%20y HTTP/1.1")]
    [InlineData("/api/generate", "POST /api/generate HTTP/1.1")]
    public async Task Request_PathAndQuery_FormTheRequestLine(string target, string requestLine)
    {
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        using var response = await backend.Proxy.Client.PostAsync(target, new StringContent(ChatBody)).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await backend.Server.WaitForRequestAsync().DefaultTimeout();
        received.Head.Split("\r\n")[0].Should().Be(requestLine);
        received.Headers["Host"].Should().Be(backend.Server.BaseUri.Authority);
        received.BodyText.Should().Be(ChatBody);
    }

    [Fact]
    public async Task Request_LargeBody_IsWrittenWholeWithItsLength()
    {
        var content = new string('x', 200 * 1024);
        var body = $$"""{"model":"llama3.2","prompt":"{{content}}"}""";
        await using var backend = await CannedAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        using var response = await backend.Proxy.Client.PostAsync("/api/generate", new StringContent(body)).DefaultTimeout();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = await backend.Server.WaitForRequestAsync().DefaultTimeout();
        received.Headers["Content-Length"].Should().Be(body.Length.ToString(CultureInfo.InvariantCulture));
        received.BodyText.Should().Be(body);
    }

    // ---- 11. Spliced bodies, written by the channel itself ----

    [Theory]
    [InlineData(100, 0)] // head and body fit one 16 KiB buffer: a single write
    [InlineData(200 * 1024, 0)] // larger: the big segment where it lies, the small pieces gathered
    [InlineData(16 * 1024, 0)] // just over: pieces that fit, then one that does not
    [InlineData(200 * 1024, 20 * 1024)] // a head larger than the buffer (client headers up to 32 KiB)
    [InlineData(100, 20 * 1024)]
    public async Task SendAsync_BodyWithThreeSplices_ServerReceivesExactlyTheRewrittenBytes(int promptLength, int padding)
    {
        var prompt = new string('x', promptLength);
        var original = Encoding.UTF8.GetBytes($$"""{"model":"alias","prompt":"{{prompt}}","keep_alive":"5m"}""");
        var keepAlive = original.AsSpan().IndexOf("\"5m\""u8);
        var body = new ForwardBody(original, 9, 7, "\"llama3.2\""u8.ToArray())
            .WithSplice(keepAlive, 4, "-1"u8.ToArray())
            .WithSplice(original.Length - 1, 0, ",\"options\":{\"num_ctx\":8192}"u8.ToArray());
        var expected = $$$"""{"model":"llama3.2","prompt":"{{{prompt}}}","keep_alive":-1,"options":{"num_ctx":8192}}""";
        await using var raw = RawLoopbackServer.Start((stream, ct) => RawLoopbackServer.WriteAsciiAsync(stream, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ct));
        using var channel = await UpstreamChannel.ConnectAsync(raw.BaseUri, CancellationToken.None).AsTask().DefaultTimeout();
        var head = Encoding.ASCII.GetBytes(
            $"POST /api/generate HTTP/1.1\r\nHost: {raw.BaseUri.Authority}\r\nX-Pad: {new string('y', padding)}\r\nContent-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\n\r\n");

        await channel.SendAsync(head, body, CancellationToken.None).AsTask().DefaultTimeout();

        var received = await raw.WaitForRequestAsync().DefaultTimeout();
        body.SpliceCount.Should().Be(3);
        received.Head.Split("\r\n")[0].Should().Be("POST /api/generate HTTP/1.1");
        received.Head.Length.Should().BeGreaterThan(padding);
        received.Body.Should().Equal(Encoding.UTF8.GetBytes(expected));
    }

    // ---- helpers ----

    private static Task<ProxyUnderTest> StartProxyAsync(Uri server) => ProxyUnderTest.StartAsync(proxies: [$"llama3.2={server}"]);

    /// <summary>A raw server that answers every request with <paramref name="answer"/> (ASCII) and closes, behind the proxy.</summary>
    private static Task<RawBackend> CannedAsync(string answer) =>
        BehindProxyAsync((stream, ct) => RawLoopbackServer.WriteAsciiAsync(stream, answer, ct));

    /// <summary>A raw server whose every connection is answered by <paramref name="respond"/>, behind the proxy.</summary>
    private static async Task<RawBackend> BehindProxyAsync(Func<Stream, CancellationToken, Task> respond)
    {
        var server = RawLoopbackServer.Start(respond);
        try
        {
            return new RawBackend(server, await StartProxyAsync(server.BaseUri));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static async Task<HttpResponseMessage> PostChatAsync(ProxyUnderTest proxy, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent(ChatBody) };
        return await proxy.Client.SendAsync(request, completion).DefaultTimeout();
    }

    // The proxy has one connection, declared by URL: clients know it as "connection 1".
    private static string Unreachable(string reason) =>
        $$"""{"error":"gollamas: Ollama server on connection 1 is unreachable: {{reason}}"}""";

    private static string InvalidResponse(string reason) =>
        $$"""{"error":"gollamas: Ollama server on connection 1 sent an invalid response: {{reason}}"}""";

    private static string InBandError(string reason) =>
        $$"""{"error":"gollamas: the stream from the Ollama server on connection 1 broke: {{reason}}"}""" + "\n";

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) ^ (i >> 8));
        }

        return bytes;
    }

    /// <summary>A raw server and the proxy routing llama3.2 to it; disposing stops the proxy, then the server.</summary>
    private sealed class RawBackend(RawLoopbackServer server, ProxyUnderTest proxy) : IAsyncDisposable
    {
        public RawLoopbackServer Server { get; } = server;

        public ProxyUnderTest Proxy { get; } = proxy;

        public async ValueTask DisposeAsync()
        {
            await using (Server)
            {
                await Proxy.DisposeAsync();
            }
        }
    }
}
