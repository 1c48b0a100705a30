using System.Text;
using Gollamas.Config;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Gollamas.Tests.Robustness;

namespace Gollamas.Tests.Security;

/// <summary>
/// DNS rebinding: on a loopback listener a request whose Host is not a local name is refused in
/// the path's error shape before anything else happens, as Ollama refuses it (its own check can
/// no longer see the client's Host, which the proxy replaces with the server's).
/// </summary>
public sealed class HostCheckTests : IAsyncLifetime
{
    private const string Refusal = "forbidden: this server answers only its local names; start gollamas with --allowed-hosts NAME to serve another";

    private FakeOllamaServer _gpu = null!;

    public async Task InitializeAsync()
    {
        _gpu = await FakeOllamaServer.StartAsync("gpu");
        _gpu.Models = [new FakeModel("llama3.2:latest")];
    }

    public async Task DisposeAsync() => await _gpu.DisposeAsync();

    [Theory]
    [InlineData("POST", "/api/chat", $$"""{"error":"{{Refusal}}"}""")]
    [InlineData("GET", "/api/tags", $$"""{"error":"{{Refusal}}"}""")]
    [InlineData("GET", "/healthz", $$"""{"error":"{{Refusal}}"}""")]
    [InlineData("POST", "/v1/chat/completions", $$$"""{"error":{"message":"{{{Refusal}}}","type":"api_error","param":null,"code":null}}""")]
    [InlineData("GET", "/v1/models", $$$"""{"error":{"message":"{{{Refusal}}}","type":"api_error","param":null,"code":null}}""")]
    public async Task ForeignHost_403InThePathsShapeAndNothingReachesAServer(string method, string path, string body)
    {
        await using var proxy = await StartAsync();

        var response = await SendAsync(proxy, method, path, "attacker.example:11434", origin: "http://attacker.example:11434");

        response.Should().Be((403, body));
        _gpu.Requests.Should().BeEmpty();
        proxy.Logs.Lines.Should().Contain(l => l.Contains("for Host attacker.example:11434", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("localhost:11434")]
    [InlineData("chat.localhost")]
    [InlineData("nas.local:11434")]
    [InlineData("host.docker.internal:11434")]
    [InlineData("127.0.0.1:11434")]
    [InlineData("[::1]:11434")]
    [InlineData("192.168.1.20:11434")]
    [InlineData("0.0.0.0:11434")]
    public async Task LocalHost_Served(string host)
    {
        await using var proxy = await StartAsync();

        var response = await SendAsync(proxy, "POST", "/api/chat", host);

        response?.Status.Should().Be(200);
        (await _gpu.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout()).Headers["Host"].Should().Be(_gpu.BaseUri.Authority);
    }

    [Fact]
    public async Task MachinesHostName_Served()
    {
        await using var proxy = await StartAsync();

        var response = await SendAsync(proxy, "GET", "/api/tags", System.Net.Dns.GetHostName() + ":11434");

        response?.Status.Should().Be(200);
    }

    [Fact]
    public async Task Http10WithoutHost_Served()
    {
        // Ollama lets an empty Host through; only HTTP/1.0 may omit it.
        await using var proxy = await StartAsync();
        using var connection = await RawHttpConnection.ConnectAsync(proxy.BaseUri);

        await connection.SendAsync("GET / HTTP/1.0\r\n\r\n");

        (await connection.ReadResponseAsync()).Should().Be((200, "Ollama is running"));
    }

    [Fact]
    public async Task OneConnection_AllowedThenForeignThenAllowedHost_EachRequestCheckedOnItsOwn()
    {
        // A connection remembers the last Host it had allowed: a foreign one on the same connection
        // is still refused, and the allowed one served again after it.
        await using var proxy = await StartAsync();
        using var connection = await RawHttpConnection.ConnectAsync(proxy.BaseUri);

        foreach (var (host, status) in new[] { ("localhost", 200), ("localhost", 200), ("evil.example", 403), ("127.0.0.1", 200), ("evil.example:11434", 403), ("localhost", 200) })
        {
            await connection.SendAsync($"GET /api/version HTTP/1.1\r\nHost: {host}\r\n\r\n");
            (await connection.ReadResponseAsync())?.Status.Should().Be(status, $"Host {host}");
        }
    }

    [Fact]
    public async Task AllowedHostsFlag_AddsNamesAndNoOthers()
    {
        await using var proxy = await StartAsync(allowedHosts: ["ollama.example.com", "gpu.example.com"]);

        (await SendAsync(proxy, "GET", "/api/tags", "OLLAMA.example.com:8443"))?.Status.Should().Be(200);
        (await SendAsync(proxy, "GET", "/api/tags", "gpu.example.com"))?.Status.Should().Be(200);
        (await SendAsync(proxy, "GET", "/api/tags", "cpu.example.com"))?.Status.Should().Be(403);
    }

    [Fact]
    public async Task AllowedHostsStar_AnyHostServed()
    {
        await using var proxy = await StartAsync(allowedHosts: ["*"]);

        var response = await SendAsync(proxy, "POST", "/api/chat", "attacker.example:11434");

        response?.Status.Should().Be(200);
        await _gpu.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout();
    }

    [Fact]
    public async Task ListenerOnEveryInterface_NotChecked()
    {
        // As Ollama: the address listened on decides, not the one this client came in by (loopback).
        await using var proxy = await StartAsync(listen: ":0");

        var response = await SendAsync(proxy, "POST", "/api/chat", "attacker.example:11434");

        response?.Status.Should().Be(200);
        await _gpu.WaitForRequestAsync(r => r.Path == "/api/chat").DefaultTimeout();
    }

    [Fact]
    public async Task OriginEqualToAForeignHost_NotTheSameOriginWhenTheHostCheckIsOff()
    {
        // gin-contrib/cors waves "Origin == http:// + Host" through; a rebinding page sends its
        // own name in both. Without the Host check, CORS must still refuse it.
        await using var proxy = await StartAsync(allowedHosts: ["*"]);

        var response = await SendAsync(proxy, "GET", "/api/tags", "attacker.example:11434", origin: "http://attacker.example:11434");

        response.Should().Be((403, ""));
        _gpu.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task OriginEqualToAnAllowedHost_SameOriginWithoutCorsHeaders()
    {
        await using var proxy = await StartAsync(allowedHosts: ["gollamas.example"]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        request.Headers.Host = "gollamas.example:8080";
        request.Headers.Add("Origin", "http://gollamas.example:8080");

        using var response = await proxy.Client.SendAsync(request);

        ((int)response.StatusCode).Should().Be(200);
        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }

    private Task<ProxyUnderTest> StartAsync(string[]? allowedHosts = null, string? listen = null) =>
        ProxyUnderTest.StartAsync(
            proxies: [$"llama3.2={_gpu.BaseUri}"],
            input: given => given with
            {
                Listen = listen is null ? given.Listen : new ConfigEntry(listen, "--listen"),
                AllowedHosts = (allowedHosts ?? []).Select(static h => new ConfigEntry(h, "--allowed-hosts")).ToArray(),
            });

    private static async Task<(int Status, string Body)?> SendAsync(ProxyUnderTest proxy, string method, string path, string host, string? origin = null)
    {
        using var connection = await RawHttpConnection.ConnectAsync(proxy.BaseUri);
        var body = method == "POST" ? """{"model":"llama3.2","stream":false}""" : "";
        var head = new StringBuilder()
            .Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(host).Append("\r\n")
            .Append(origin is null ? "" : $"Origin: {origin}\r\n")
            .Append("Content-Type: application/json\r\n")
            .Append("Content-Length: ").Append(Encoding.UTF8.GetByteCount(body)).Append("\r\n")
            .Append("Connection: close\r\n\r\n")
            .Append(body);
        await connection.SendAsync(head.ToString());
        return await connection.ReadResponseAsync();
    }
}
