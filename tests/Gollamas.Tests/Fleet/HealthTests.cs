using Gollamas.Connections;
using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gollamas.Tests.Fleet;

/// <summary>
/// Background probes (driven by the proxy's fake clock), servers marked down and back up, the
/// preference for a server with the model loaded, and 503 when every route is down.
/// </summary>
public sealed class HealthTests : TwoServersTest
{
    private const string Chat = """{"model":"llama3.2","stream":false}""";
    private const string Show = """{"model":"llama3.2"}""";

    [Fact]
    public async Task ModelLoadedOnOneServer_RequestsGoThereRatherThanTakingTurns()
    {
        B.Running = [new FakeModel("llama3.2:latest")];
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        await proxy.ProbeRoundAsync();
        for (var i = 0; i < 3; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent(Chat));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        B.Requests.Where(r => r.Path == "/api/chat").Should().HaveCount(3);
        A.Requests.Should().NotContain(r => r.Path == "/api/chat");
    }

    [Fact]
    public async Task CompletedChat_MarksTheModelLoadedOnThatServer()
    {
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        for (var i = 0; i < 3; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent(Chat));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // The first request went to one of them; the model is loaded there now, so the rest follow.
        (A.Requests.Count(r => r.Path == "/api/chat"), B.Requests.Count(r => r.Path == "/api/chat"))
            .Should().BeOneOf((3, 0), (0, 3));
    }

    [Fact]
    public async Task FailingProbes_ServerMarkedDownAndSkipped_FirstSuccessBringsItBack()
    {
        var versionFails = true;
        A.Map("GET", "/api/version", (context, _) =>
        {
            context.Response.StatusCode = versionFails ? 500 : 200;
            return context.Response.WriteAsync(versionFails ? """{"error":"broken"}""" : """{"version":"0.9.6"}""");
        });
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);

        for (var i = 0; i < 3; i++)
        {
            await proxy.ProbeRoundAsync();
        }

        proxy.Logs.Lines.Should().ContainSingle(l => l.StartsWith("Warning: Ollama server", StringComparison.Ordinal) && l.Contains("is down after 3 failures", StringComparison.Ordinal));
        for (var i = 0; i < 4; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/show", new StringContent(Show));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        A.Requests.Should().NotContain(r => r.Path == "/api/show");
        B.Requests.Where(r => r.Path == "/api/show").Should().HaveCount(4);

        versionFails = false;
        await proxy.ProbeRoundAsync();
        proxy.Logs.Lines.Should().ContainSingle(l => l.StartsWith("Information: Ollama server", StringComparison.Ordinal) && l.EndsWith("is up again", StringComparison.Ordinal));
        for (var i = 0; i < 2; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/show", new StringContent(Show));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        A.Requests.Where(r => r.Path == "/api/show").Should().ContainSingle("equal routes take turns again");
    }

    [Fact]
    public async Task EveryRouteDown_503AtOnceWithRetryAfterNamingModelAndServers()
    {
        A.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        var proxy = await StartAsync(A.BaseUri);
        for (var i = 0; i < 3; i++)
        {
            await proxy.ProbeRoundAsync();
        }

        using var native = await proxy.Client.PostAsync("/api/chat", new StringContent(Chat));
        using var openAi = await proxy.Client.PostAsync("/v1/chat/completions", new StringContent(Chat));

        native.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        native.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        (await native.Content.ReadAsStringAsync()).Should().Be($$"""{"error":"gollamas: every Ollama server for model 'llama3.2' is down: connection 1"}""");
        openAi.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await openAi.Content.ReadAsStringAsync()).Should().StartWith("""{"error":{"message":"gollamas: every Ollama server for model 'llama3.2' is down""").And.Contain("\"type\":\"api_error\"");
        A.Requests.Should().NotContain(r => r.Path == "/api/chat" || r.Path == "/v1/chat/completions");
    }

    [Theory]
    [InlineData(503)]
    [InlineData(500)]
    [InlineData(429)]
    public async Task ServerAnsweringAFailureToEverything_MarkedDownWhileRequestsFlow_ThenTheProxyAnswers(int status)
    {
        // Requests keep coming between the probes, and each answer reaches the client (one route:
        // nothing to fail over to); none of them may count as a sign of life.
        foreach (var (method, path) in new[] { ("GET", "/api/version"), ("GET", "/api/ps"), ("POST", "/api/chat") })
        {
            A.Map(method, path, (context, _) =>
            {
                context.Response.StatusCode = status;
                return context.Response.WriteAsync("""{"error":"server busy, please try again.  maximum pending requests exceeded"}""");
            });
        }

        var proxy = await StartAsync(A.BaseUri);
        for (var i = 0; i < 2; i++)
        {
            using var passed = await proxy.Client.PostAsync("/api/chat", new StringContent(Chat));
            passed.StatusCode.Should().Be((HttpStatusCode)status, "the server's own answer goes to the client");
            await proxy.ProbeRoundAsync();
        }

        using var answered = await proxy.Client.PostAsync("/api/chat", new StringContent(Chat));

        answered.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await answered.Content.ReadAsStringAsync()).Should().Be($$"""{"error":"gollamas: every Ollama server for model 'llama3.2' is down: connection 1"}""");
        A.Requests.Count(r => r.Path == "/api/chat").Should().Be(2, "the third request was answered by the proxy");
        proxy.Logs.Lines.Should().ContainSingle(l => l.StartsWith($"Warning: Ollama server {A.BaseUri} is down after 3 failures", StringComparison.Ordinal));
        var model = proxy.Server.Snapshots.Current.Routes.Models.Single().Canonical;
        proxy.Server.Snapshots.Current.Routes.AllConnections.Single().Health.IsLoaded(model).Should().BeFalse("a failed answer loads nothing");
    }

    [Fact]
    public async Task RouteRefusingWith503_CountsAsAFailureEvenWhenAnotherRouteServes()
    {
        foreach (var path in new[] { "/api/version", "/api/show" })
        {
            A.Map(path == "/api/version" ? "GET" : "POST", path, static (context, _) =>
            {
                context.Response.StatusCode = 503;
                return Task.CompletedTask;
            });
        }

        var proxy = await StartAsync(A.BaseUri, B.BaseUri);
        await proxy.ProbeRoundAsync();

        // Equal routes take turns: A is tried once, refuses, and B serves; A then cools down
        // (a server answering 503 at once must not take every other request), so B serves the rest.
        for (var i = 0; i < 4; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/show", new StringContent(Show));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        A.Requests.Count(r => r.Path == "/api/show").Should().Be(1);

        // Once the cooldown is over A takes its turn again, fails the third time in a row, and is down.
        proxy.Time.Advance(ConnectionHealth.FirstCooldown);
        for (var i = 0; i < 2; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/show", new StringContent(Show));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        proxy.Logs.Lines.Should().ContainSingle(l => l.StartsWith($"Warning: Ollama server {A.BaseUri} is down after 3 failures", StringComparison.Ordinal));
        A.Requests.Count(r => r.Path == "/api/show").Should().Be(2);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(413)]
    public async Task RequestAnswered4xx_KeepsTheServerUp_ButDoesNotMarkTheModelLoaded(int status)
    {
        A.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        A.Map("POST", "/api/chat", (context, _) =>
        {
            context.Response.StatusCode = status;
            return context.Response.WriteAsync("""{"error":"about the request"}""");
        });
        var proxy = await StartAsync(A.BaseUri);

        // Probe, request, probe, request, probe: never three failures in a row.
        for (var i = 0; i < 2; i++)
        {
            await proxy.ProbeRoundAsync();
            using var response = await proxy.Client.PostAsync("/api/chat", new StringContent(Chat));
            response.StatusCode.Should().Be((HttpStatusCode)status);
        }

        await proxy.ProbeRoundAsync();

        var model = proxy.Server.Snapshots.Current.Routes.Models.Single().Canonical;
        var health = proxy.Server.Snapshots.Current.Routes.AllConnections.Single().Health;
        health.IsDown.Should().BeFalse("an answer about the request says the server works");
        health.IsLoaded(model).Should().BeFalse("only a 2xx says the model is loaded");
    }

    [Fact]
    public async Task ServerKilledWhileRunning_RequestsFailOverWithoutAClientErrorThenSkipIt()
    {
        var proxy = await StartAsync(A.BaseUri, B.BaseUri);
        using (var warm = await proxy.Client.PostAsync("/api/show", new StringContent(Show)))
        {
            warm.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await A.DisposeAsync();
        for (var i = 0; i < 6; i++)
        {
            using var response = await proxy.Client.PostAsync("/api/show", new StringContent(Show));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // The dead server was tried once: refused, it cools down, and the requests after go to
        // the other without a try until the cooldown is over.
        proxy.Logs.Lines.Count(l => l.Contains("trying the next route", StringComparison.Ordinal)).Should().Be(1);

        // Each time it is over, one request tries it again; the third failure in a row marks it
        // down, and after that it is skipped without a try, cooldown or not.
        // (1 s, then 2 s: less than a probe interval, so these are the requests' failures.)
        for (var round = 0; round < 2; round++)
        {
            proxy.Time.Advance(ConnectionHealth.FirstCooldown * (round + 1));
            for (var i = 0; i < 2; i++)
            {
                using var response = await proxy.Client.PostAsync("/api/show", new StringContent(Show));
                response.StatusCode.Should().Be(HttpStatusCode.OK);
            }
        }

        proxy.Logs.Lines.Count(l => l.Contains("trying the next route", StringComparison.Ordinal)).Should().Be(3);
        proxy.Logs.Lines.Should().ContainSingle(l => l.Contains("is down after 3 failures", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DownServer_LeftOutOfTheListsWithoutBeingAsked()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        B.Models = [new FakeModel("qwen3:8b")];
        A.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        Proxy = await ProxyUnderTest.StartAsync(proxies: [$"llama3.2={A.BaseUri}", $"qwen3:8b={B.BaseUri}"]);
        for (var i = 0; i < 3; i++)
        {
            await Proxy.ProbeRoundAsync();
        }

        var tags = await Proxy.Client.GetStringAsync("/api/tags");

        tags.Should().Contain("qwen3:8b").And.NotContain("llama3.2");
        A.Requests.Should().NotContain(r => r.Path == "/api/tags");
    }

    private async Task<ProxyUnderTest> StartAsync(params Uri[] servers)
    {
        Proxy = await ProxyUnderTest.StartAsync(proxies: servers.Select(s => $"llama3.2={s}"));
        return Proxy;
    }
}
