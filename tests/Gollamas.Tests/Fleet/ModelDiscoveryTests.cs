using System.Net;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Fleet;

/// <summary>
/// Models found on the servers (--discover): each model a discovering connection's /api/tags
/// lists becomes a route to it, read at start-up and every health interval; configured routes
/// win; aliases may name them; lists and /metrics show them.
/// </summary>
public sealed class ModelDiscoveryTests : TwoServersTest
{
    [Fact]
    public async Task DiscoverOnly_TheServersModelsAreRoutedFromTheStart_OthersAreUnknown()
    {
        A.Models = [new FakeModel("llama3.2:latest"), new FakeModel("qwen3:8b")];

        Proxy = await StartAsync([], "--discover", "a");

        (await ChatAsync("qwen3:8b")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await ChatAsync("llama3.2")).StatusCode.Should().Be(HttpStatusCode.OK);
        A.Requests.Count(static r => r.Path == "/api/chat").Should().Be(2);
        using var unknown = await ChatAsync("qwen3:9b");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'qwen3:9b' not found; did you mean qwen3:8b?"}""");
        using var typo = await ChatAsync("lama3.2");
        (await typo.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'lama3.2' not found; did you mean llama3.2:latest?"}""", "a discovered model is suggested too, and a missing :latest is no typo");
        Proxy.Logs.Lines.Should().Contain($"Information: Ollama server 'a' ({A.BaseUri}) lists 2 models; --discover (every model) takes 2: llama3.2:latest, qwen3:8b");
    }

    [Fact]
    public async Task SameModelOnTwoDiscoveringServers_HasARouteToEach()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        B.Models = [new FakeModel("llama3.2:latest"), new FakeModel("phi4:14b")];

        Proxy = await StartAsync([], "--discover", "a", "--discover", "b");

        var routes = Proxy.Server.Snapshots.Current.Routes;
        routes.TryResolve("llama3.2", out var llama).Should().BeTrue();
        llama.Route.Connections.Select(static c => c.Id).Should().Equal("a", "b");
        llama.Route.IsDiscovered.Should().BeTrue();
        routes.TryResolve("phi4:14b", out var phi).Should().BeTrue();
        phi.Route.Connections.Select(static c => c.Id).Should().Equal("b");
    }

    [Fact]
    public async Task ConfiguredRouteWins_OverADiscoveredOneForTheSameModel()
    {
        A.Models = [new FakeModel("llama3.2:latest"), new FakeModel("qwen3:8b")];

        Proxy = await StartAsync(["llama3.2=b"], "--discover", "a");

        (await ChatAsync("llama3.2")).StatusCode.Should().Be(HttpStatusCode.OK);
        B.Requests.Count(static r => r.Path == "/api/chat").Should().Be(1);
        A.Requests.Count(static r => r.Path == "/api/chat").Should().Be(0);
        Proxy.Server.Snapshots.Current.Routes.TryResolve("llama3.2", out var match).Should().BeTrue();
        match.Route.IsDiscovered.Should().BeFalse();
        match.Route.Connections.Select(static c => c.Id).Should().Equal("b");
        Proxy.Server.Snapshots.Current.Routes.Models.Select(static m => m.Name).Should().Equal("llama3.2", "qwen3:8b");
    }

    [Fact]
    public async Task Patterns_IncludeAndExcludeChooseTheModels()
    {
        A.Models = [new FakeModel("qwen3:8b"), new FakeModel("qwen3:30b"), new FakeModel("llama3.2:latest"), new FakeModel("Qwen3:4b")];

        Proxy = await StartAsync([], "--discover", "a=qwen3:*", "--discover", "a=!*:30b");

        Proxy.Server.Snapshots.Current.Routes.Models.Select(static m => m.Name).Should().Equal(["qwen3:8b", "Qwen3:4b"], "patterns ignore case, and a route is named as its server lists it");
        (await ChatAsync("qwen3:30b")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ChatAsync("llama3.2")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AModelPulledIsRoutedWithinOneInterval_AndADeletedOneStopsBeingRouted()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        Proxy = await StartAsync([], "--discover", "a");
        (await ChatAsync("qwen3:8b")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        A.Models = [new FakeModel("qwen3:8b")];
        await Proxy.DiscoveryRoundAsync();

        (await ChatAsync("qwen3:8b")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await ChatAsync("llama3.2")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        Proxy.Logs.Lines.Should().Contain($"Information: Ollama server 'a' ({A.BaseUri}) models changed: new qwen3:8b; gone llama3.2:latest");
    }

    [Fact]
    public async Task AnUnchangedList_BuildsNoNewSnapshot()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        Proxy = await StartAsync([], "--discover", "a");
        var before = Proxy.Server.Snapshots.Current;

        await Proxy.DiscoveryRoundAsync();

        Proxy.Server.Snapshots.Current.Should().BeSameAs(before);
        A.Requests.Count(static r => r.Path == "/api/tags").Should().Be(2, "one read at start-up, one a health interval later");
    }

    [Fact]
    public async Task AServerThatStopsAnswering_KeepsTheModelsItLastListed()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        Proxy = await StartAsync([], "--discover", "a");
        A.Map("GET", "/api/tags", static (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        });

        await Proxy.DiscoveryRoundAsync();

        Proxy.Server.Snapshots.Current.Routes.TryResolve("llama3.2", out _).Should().BeTrue();
    }

    [Fact]
    public async Task AnAliasOfAModelNotThereYet_IsUnknownUntilTheServerListsIt_ThenRoutedAndRewritten()
    {
        Proxy = await StartAsync([], "--discover", "a", aliases: ["gpt-4o=llama3.2"]);
        (await ChatAsync("gpt-4o")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        A.Models = [new FakeModel("llama3.2:latest")];
        await Proxy.DiscoveryRoundAsync();

        (await ChatAsync("gpt-4o")).StatusCode.Should().Be(HttpStatusCode.OK);
        var chat = A.Requests.Single(static r => r.Path == "/api/chat");
        chat.BodyText.Should().Contain("\"model\":\"llama3.2:latest\"");
    }

    [Fact]
    public async Task AModelListedUnderAnAliasName_IsNotRouted_TheAliasKeepsItsName_AndTheLogSaysSo()
    {
        A.Models = [new FakeModel("gpt-4o:latest"), new FakeModel("llama3.2:latest")];

        Proxy = await StartAsync([], "--discover", "a", aliases: ["gpt-4o=llama3.2"]);

        (await ChatAsync("gpt-4o")).StatusCode.Should().Be(HttpStatusCode.OK);
        A.Requests.Single(static r => r.Path == "/api/chat").BodyText.Should().Contain("\"model\":\"llama3.2:latest\"", "the configured alias wins over the server's model of that name");
        Proxy.Server.Snapshots.Current.Routes.Models.Select(static m => m.Name).Should().Equal("llama3.2:latest");
        Proxy.Logs.Lines.Should().Contain($"Warning: Ollama server 'a' ({A.BaseUri}) lists gpt-4o:latest, but that name is configured as an alias of llama3.2: the alias wins, and the server's own gpt-4o:latest is not routed");
    }

    [Fact]
    public async Task AnAliasThatIsAnotherSpellingOfItsModel_ChangesNothing()
    {
        A.Models = [new FakeModel("llama3.2:latest")];

        Proxy = await StartAsync([], "--discover", "a", aliases: ["Llama3.2=llama3.2:latest"]);

        (await ChatAsync("llama3.2")).StatusCode.Should().Be(HttpStatusCode.OK, "the model is not hidden by a name of its own");
        Proxy.Logs.Lines.Should().NotContain(static l => l.Contains("configured as an alias", StringComparison.Ordinal));
    }

    [Fact]
    public void AnAliasOfAnAlias_IsAConfigurationError()
    {
        var input = ProxyUnderTest.Flags("--discover", "a")(new Gollamas.Config.ConfigInput(
            new Gollamas.Config.ConfigEntry("127.0.0.1:0", "--listen"),
            new Gollamas.Config.ConfigEntry("info", "--level"),
            [],
            [new Gollamas.Config.ConfigEntry($"a={A.BaseUri}", "--connection")],
            [new Gollamas.Config.ConfigEntry("gpt-4o=fast", "--alias"), new Gollamas.Config.ConfigEntry("fast=llama3.2", "--alias")],
            new Gollamas.Config.ConfigEntry("", "--list-aliases")));

        Gollamas.Config.ConfigParser.TryParse(input, out _, out var errors).Should().BeFalse();

        errors.Select(static e => e.ToString()).Should().Equal("--alias \"gpt-4o=fast\": alias points to 'fast', itself an alias of 'llama3.2'; point it at the model");
    }

    [Fact]
    public async Task AReloadThatMakesAListedModelsNameAnAlias_SaysSoOnce()
    {
        A.Models = [new FakeModel("gpt-4o:latest"), new FakeModel("llama3.2:latest")];
        Proxy = await StartAsync([], "--discover", "a");
        var warning = $"Warning: Ollama server 'a' ({A.BaseUri}) lists gpt-4o:latest, but that name is configured as an alias of llama3.2: the alias wins, and the server's own gpt-4o:latest is not routed";
        Proxy.Logs.Lines.Should().NotContain(warning);

        Proxy.Swap([], Connections(), aliases: ["gpt-4o=llama3.2"], input: ProxyUnderTest.Flags("--discover", "a"));
        Proxy.Swap([], Connections(), aliases: ["gpt-4o=llama3.2"], input: ProxyUnderTest.Flags("--discover", "a"));

        Proxy.Logs.Lines.Count(line => line == warning).Should().Be(1, "said when the reload made it an alias, not again for a reload that kept it");
        Proxy.Server.Snapshots.Current.Routes.Models.Select(static m => m.Name).Should().Equal("llama3.2:latest");
    }

    [Fact]
    public async Task AReloadWhoseRuleNowAdmitsAModelNamedLikeAnAlias_SaysSo()
    {
        A.Models = [new FakeModel("gpt-4o:latest"), new FakeModel("llama3.2:latest")];
        Proxy = await StartAsync([], "--discover", "a=llama*", aliases: ["gpt-4o=llama3.2"]);
        var warning = $"Warning: Ollama server 'a' ({A.BaseUri}) lists gpt-4o:latest, but that name is configured as an alias of llama3.2: the alias wins, and the server's own gpt-4o:latest is not routed";
        Proxy.Logs.Lines.Should().NotContain(warning, "its rule does not take gpt-4o");

        Proxy.Swap([], Connections(), aliases: ["gpt-4o=llama3.2"], input: ProxyUnderTest.Flags("--discover", "a"));

        Proxy.Logs.Lines.Count(line => line == warning).Should().Be(1);
    }

    [Fact]
    public async Task Lists_ShowDiscoveredModels_AndTheAliasesOfThem()
    {
        A.Models = [new FakeModel("llama3.2:latest"), new FakeModel("qwen3:8b")];
        B.Models = [new FakeModel("phi4:14b"), new FakeModel("hidden:7b")];

        Proxy = await StartAsync(["phi4:14b=b"], "--discover", "a", aliases: ["gpt-4o=llama3.2"], listAliases: true);

        using var tags = System.Text.Json.JsonDocument.Parse(await Proxy.Client.GetStringAsync("/api/tags"));
        tags.RootElement.GetProperty("models").EnumerateArray().Select(static m => m.GetProperty("name").GetString())
            .Should().BeEquivalentTo(["llama3.2:latest", "gpt-4o", "qwen3:8b", "phi4:14b"]);
        using var openAi = System.Text.Json.JsonDocument.Parse(await Proxy.Client.GetStringAsync("/v1/models"));
        openAi.RootElement.GetProperty("data").EnumerateArray().Select(static m => m.GetProperty("id").GetString())
            .Should().Contain(["llama3.2:latest", "qwen3:8b", "phi4:14b"]).And.NotContain("hidden:7b");
    }

    [Fact]
    public async Task Metrics_CountEachConnectionsModelsBySource()
    {
        A.Models = [new FakeModel("llama3.2:latest"), new FakeModel("qwen3:8b")];

        Proxy = await StartAsync(["phi4=a", "phi4=b"], "--discover", "a");

        var text = await Proxy.Client.GetStringAsync("/metrics");
        text.Should().Contain("gollamas_connection_models{connection=\"a\",source=\"configured\"} 1\n")
            .And.Contain("gollamas_connection_models{connection=\"a\",source=\"discovered\"} 2\n")
            .And.Contain("gollamas_connection_models{connection=\"b\",source=\"configured\"} 1\n")
            .And.Contain("gollamas_connection_models{connection=\"b\",source=\"discovered\"} 0\n");
    }

    [Fact]
    public async Task AReload_KeepsTheDiscoveredRoutes_WithoutAskingAgain()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        Proxy = await StartAsync([], "--discover", "a");
        var reads = A.Requests.Count(static r => r.Path == "/api/tags");

        Proxy.Swap(["phi4=b"], Connections(), input: ProxyUnderTest.Flags("--discover", "a"));

        Proxy.Server.Snapshots.Current.Routes.Models.Select(static m => m.Name).Should().Equal("phi4", "llama3.2:latest");
        A.Requests.Count(static r => r.Path == "/api/tags").Should().Be(reads);
    }

    [Fact]
    public async Task AReloadThatAddsADiscoveringConnection_ReadsItAtOnce()
    {
        B.Models = [new FakeModel("phi4:14b")];
        Proxy = await StartAsync(["llama3.2=a"]);
        var round = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Proxy.Server.Discovery.RoundCompleted += () => round.TrySetResult();

        Proxy.Swap(["llama3.2=a"], Connections(), input: ProxyUnderTest.Flags("--discover", "b"));
        await round.Task.DefaultTimeout();

        (await ChatAsync("phi4:14b")).StatusCode.Should().Be(HttpStatusCode.OK);
        B.Requests.Count(static r => r.Path == "/api/chat").Should().Be(1);
    }

    [Fact]
    public async Task ModelSettings_GivenForAModelNotConfigured_ApplyToItWhenItIsFound()
    {
        A.Models = [new FakeModel("llama3.2:latest"), new FakeModel("qwen3:8b")];

        Proxy = await StartAsync([], ["--discover", "a", "--keep-alive", "llama3.2=10m", "--force-num-ctx", "qwen3:8b=8192"], aliases: null, listAliases: false);

        (await ChatAsync("llama3.2")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await ChatAsync("qwen3:8b")).StatusCode.Should().Be(HttpStatusCode.OK);
        var chats = A.Requests.Where(static r => r.Path == "/api/chat").Select(static r => r.BodyText).ToList();
        chats[0].Should().Contain("\"keep_alive\":600").And.NotContain("num_ctx");
        chats[1].Should().Contain("\"num_ctx\":8192").And.NotContain("keep_alive");
    }

    [Fact]
    public async Task TheFile_GivesSettingsToAModelWithoutConnections_WhenItDiscovers()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        var errors = new List<Gollamas.Config.ConfigError>();
        var input = Gollamas.Config.ConfigFile.Parse(
            $"connections:\n  a: {{url: '{A.BaseUri}', discover: true}}\nmodels:\n  llama3.2: {{keep_alive: 10m, aliases: [gpt-4o]}}\n", "gollamas.yaml", errors);
        errors.Should().BeEmpty();

        Proxy = await ProxyUnderTest.StartAsync([], input: given => given.With(Gollamas.Config.Settings.Connections, input![Gollamas.Config.Settings.Connections])
            .With(Gollamas.Config.Settings.Discover, input[Gollamas.Config.Settings.Discover])
            .With(Gollamas.Config.Settings.KeepAlive, input[Gollamas.Config.Settings.KeepAlive])
            .With(Gollamas.Config.Settings.Aliases, input[Gollamas.Config.Settings.Aliases]));

        (await ChatAsync("gpt-4o")).StatusCode.Should().Be(HttpStatusCode.OK);
        A.Requests.Single(static r => r.Path == "/api/chat").BodyText.Should().Contain("\"model\":\"llama3.2:latest\"").And.Contain("\"keep_alive\":600");
    }

    private string[] Connections() => [$"a={A.BaseUri}", $"b={B.BaseUri}"];

    private Task<ProxyUnderTest> StartAsync(string[] proxies, string flag, string value, string[]? aliases = null, bool listAliases = false) =>
        StartAsync(proxies, [flag, value], aliases, listAliases);

    private Task<ProxyUnderTest> StartAsync(string[] proxies, string flag, string value, string flag2, string value2) =>
        StartAsync(proxies, [flag, value, flag2, value2], null, false);

    private Task<ProxyUnderTest> StartAsync(string[] proxies, string[] flags, string[]? aliases, bool listAliases) =>
        ProxyUnderTest.StartAsync(proxies, Connections(), aliases, listAliases, input: ProxyUnderTest.Flags(flags));

    private Task<ProxyUnderTest> StartAsync(string[] proxies) => ProxyUnderTest.StartAsync(proxies, Connections());

    private Task<HttpResponseMessage> ChatAsync(string model) =>
        Proxy!.Client.PostAsync("/api/chat", new StringContent($$"""{"model":"{{model}}","messages":[],"stream":false}""", System.Text.Encoding.UTF8, "application/json"));
}
