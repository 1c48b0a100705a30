using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gollamas.Bodies;
using Gollamas.Connections;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Connections;

/// <summary>
/// <see cref="UpstreamChannel.CheckIdle"/> on one channel whose server end the test writes by hand, over
/// plain TCP and over TLS: whatever arrives after a response (bytes, a close) makes the connection unusable,
/// including bytes the TLS layer has already taken off the socket.
/// </summary>
public sealed class UpstreamChannelIdleTests
{
    private static readonly TimeSpan MaxIdle = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CheckIdle_NothingArrivedAfterTheResponse_Usable(bool tls)
    {
        await using var pair = await ChannelPair.OpenAsync(tls);
        await pair.ExchangeAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

        pair.Client.MarkIdle();

        pair.Client.CheckIdle(MaxIdle).Should().Be(IdleCheck.Usable);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CheckIdle_AResponseArrivedWhileIdle_Readable(bool tls)
    {
        await using var pair = await ChannelPair.OpenAsync(tls);
        await pair.ExchangeAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        pair.Client.MarkIdle();

        await pair.ServerWriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray");

        pair.Client.CheckIdle(MaxIdle).Should().Be(IdleCheck.Readable);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CheckIdle_ServerClosedWhileIdle_Readable(bool tls)
    {
        await using var pair = await ChannelPair.OpenAsync(tls);
        await pair.ExchangeAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        pair.Client.MarkIdle();

        await pair.ServerCloseAsync();

        pair.Client.CheckIdle(MaxIdle).Should().Be(IdleCheck.Readable);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CheckIdle_BytesCameWithTheLastBodyBytesButWereNotRead_Readable(bool tls)
    {
        // The body is read straight into the caller's buffer, no further than its length: the extra bytes stay
        // on the socket, or (TLS) decrypted inside SslStream where no poll of the socket can see them.
        await using var pair = await ChannelPair.OpenAsync(tls);
        await pair.SendRequestAsync();
        await pair.ServerWriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
        var head = await pair.Client.ReadResponseHeadAsync(isHeadRequest: false, CancellationToken.None).AsTask().DefaultTimeout();
        await pair.ServerWriteAsync("okHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray");
        var body = await pair.ReadBodyAsync();

        pair.Client.MarkIdle();

        head.StatusCode.Should().Be(200);
        body.Should().Be("ok");
        pair.Client.CanReuse.Should().BeTrue("nothing past the body was read");
        pair.Client.CheckIdle(MaxIdle).Should().Be(IdleCheck.Readable);
    }

    [Fact]
    public async Task CheckIdle_IdleLongerThanTheLimit_Expired()
    {
        await using var pair = await ChannelPair.OpenAsync(tls: false);
        await pair.ExchangeAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

        pair.Client.MarkIdle();

        pair.Client.CheckIdle(TimeSpan.FromTicks(-1)).Should().Be(IdleCheck.Expired);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reuse_AfterTheIdleCheck_TheNextResponseIsReadWhole(bool tls)
    {
        // Over TLS the read armed while idle is still pending when the next request goes out; the response
        // head must be read after it, not beside it.
        await using var pair = await ChannelPair.OpenAsync(tls);
        await pair.ExchangeAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        pair.Client.MarkIdle();
        pair.Client.CheckIdle(MaxIdle).Should().Be(IdleCheck.Usable);

        var body = await pair.ExchangeAsync("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nsecond");

        body.Should().Be("second");
        pair.Client.CanReuse.Should().BeTrue();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reuse_ServerSilentAndTheRequestCancelled_TheHeadReadEndsAtOnce(bool tls)
    {
        // Over TLS the first read of a reused channel is the one armed while idle: it must still end when
        // the request is cancelled (the client left, the idle timeout, the drain), not when the server
        // finally answers.
        await using var pair = await ChannelPair.OpenAsync(tls);
        await pair.ExchangeAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        pair.Client.MarkIdle();
        pair.Client.CheckIdle(MaxIdle).Should().Be(IdleCheck.Usable);
        await pair.SendRequestAsync();
        using var cancel = new CancellationTokenSource();

        var head = pair.Client.ReadResponseHeadAsync(isHeadRequest: false, cancel.Token).AsTask();
        head.IsCompleted.Should().BeFalse("the server has not answered");
        await cancel.CancelAsync();

        await FluentActions.Awaiting(() => head.DefaultTimeout()).Should().ThrowAsync<OperationCanceledException>();
    }

    /// <summary>An <see cref="UpstreamChannel"/> and the server end of its socket (TLS on both when asked).</summary>
    private sealed class ChannelPair : IAsyncDisposable
    {
        private static readonly byte[] s_request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();

        private readonly Socket _serverSocket;
        private readonly Stream _server;
        private readonly X509Certificate2? _certificate;

        private ChannelPair(UpstreamChannel client, Socket serverSocket, Stream server, X509Certificate2? certificate)
        {
            Client = client;
            _serverSocket = serverSocket;
            _server = server;
            _certificate = certificate;
        }

        public UpstreamChannel Client { get; }

        public static async Task<ChannelPair> OpenAsync(bool tls)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await clientSocket.ConnectAsync(listener.LocalEndPoint!).DefaultTimeout();
            var serverSocket = await listener.AcceptAsync().DefaultTimeout();
            serverSocket.NoDelay = true; // each write reaches the client when it returns, not after a delayed ACK
            Stream client = new NetworkStream(clientSocket, ownsSocket: true);
            Stream server = new NetworkStream(serverSocket, ownsSocket: false);
            X509Certificate2? certificate = null;
            if (tls)
            {
                certificate = TestCertificates.CreateLoopback();
                var trusted = certificate;
                var clientTls = new SslStream(client, leaveInnerStreamOpen: false, (_, presented, _, _) => presented is not null && presented.Equals(trusted));
                var serverTls = new SslStream(server, leaveInnerStreamOpen: false);
                await Task.WhenAll(
                    clientTls.AuthenticateAsClientAsync("127.0.0.1"),
                    serverTls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate })).DefaultTimeout();
                (client, server) = (clientTls, serverTls);
            }

            return new ChannelPair(new UpstreamChannel(clientSocket, client), serverSocket, server, certificate);
        }

        public async Task SendRequestAsync()
        {
            await Client.SendAsync(s_request, new ForwardBody(ReadOnlyMemory<byte>.Empty), CancellationToken.None).AsTask().DefaultTimeout();
            var received = new byte[s_request.Length];
            await _server.ReadExactlyAsync(received).AsTask().DefaultTimeout();
            received.Should().Equal(s_request);
        }

        /// <summary>One request and its response, read to the end of the body; returns the body.</summary>
        public async Task<string> ExchangeAsync(string response)
        {
            await SendRequestAsync();
            await ServerWriteAsync(response);
            await Client.ReadResponseHeadAsync(isHeadRequest: false, CancellationToken.None).AsTask().DefaultTimeout();
            return await ReadBodyAsync();
        }

        public async Task<string> ReadBodyAsync()
        {
            var body = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await Client.ReadBodyAsync(buffer, CancellationToken.None).AsTask().DefaultTimeout()) > 0)
            {
                body.Write(buffer, 0, read);
            }

            return Encoding.ASCII.GetString(body.ToArray());
        }

        public async Task ServerWriteAsync(string text)
        {
            await _server.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask().DefaultTimeout();
            await _server.FlushAsync().DefaultTimeout();
        }

        public async Task ServerCloseAsync()
        {
            if (_server is SslStream tls)
            {
                await tls.ShutdownAsync().DefaultTimeout();
            }

            _serverSocket.Shutdown(SocketShutdown.Send);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await _server.DisposeAsync();
            _serverSocket.Dispose();
            _certificate?.Dispose();
        }
    }
}
