using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Gollamas.Cli;
using Gollamas.Hosting;
using Gollamas.Tests.Cli;
using Gollamas.Tests.Fakes;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Hosting;

/// <summary>
/// <c>gollamas check</c> through the real command against fake Ollama servers: one table, a
/// verdict, exit 0 / 1 / 2, and never a listening socket or a started server.
/// </summary>
public sealed partial class ConfigurationCheckTests : TwoServersTest
{
    [Fact]
    public async Task Check_AllAnswerWithTheirModels_Exits0WithTheTable()
    {
        A.Models = [new FakeModel("llama3.2:latest"), new FakeModel("qwen3:8b")];
        B.Models = [new FakeModel("phi4:latest")];
        B.Version = "0.12.3";

        var run = await CheckAsync(
            "--connection", $"a={A.BaseUri}", "--proxy", "llama3.2=a", "--proxy", "qwen3:8b=a",
            "--proxy", $"phi4={B.BaseUri}", "--alias", "gpt-4o=llama3.2");

        run.ExitCode.Should().Be(ExitCodes.Success);
        run.Error.Should().BeEmpty();
        Table(run.Output).Should().Equal(
            Row("CONNECTION", "URL", "STATUS", "VERSION", "MODELS", "PROBLEM"),
            Row("a", Root(A), "ok", "0.9.6", "2", "-"),
            Row(B.BaseUri.Authority, Root(B), "ok", "0.12.3", "1", "-"),
            Row("OK: all 2 servers answer and have their configured models."));
    }

    [Fact]
    public async Task Check_AModelMissing_Exits1NamingItAndWhatTheServerHas()
    {
        A.Models = [new FakeModel("qwen3:8b"), new FakeModel("qwen3:30b"), new FakeModel("llama3.2:latest")];

        var run = await CheckAsync("--connection", $"a={A.BaseUri}", "--proxy", "qwen3=a", "--proxy", "llama3.2=a");

        run.ExitCode.Should().Be(ExitCodes.CheckFailed);
        Table(run.Output).Should().Equal(
            Row("CONNECTION", "URL", "STATUS", "VERSION", "MODELS", "PROBLEM"),
            Row("a", Root(A), "ok", "0.9.6", "3", "missing qwen3 (it has qwen3:8b, qwen3:30b and 1 more)"),
            Row("FAILED: 1 configured model missing."));
    }

    [Fact]
    public async Task Check_AServerDown_Exits1WithTheReason()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        var dead = RawLoopbackServer.ClosedPortUri();

        var run = await CheckAsync("--proxy", $"llama3.2={A.BaseUri}", "--connection", $"cpu={dead}", "--proxy", "phi4=cpu");

        run.ExitCode.Should().Be(ExitCodes.CheckFailed);
        var table = Cells(run.Output);
        table[1].Take(5).Should().Equal("cpu", dead.GetLeftPart(UriPartial.Authority), "down", "-", "-");
        table[1][5].Should().NotBeEmpty().And.NotContain("net_").And.NotContain("SR.");
        table[3].Should().Equal("FAILED: 1 of 2 servers down or failing.");
    }

    [Fact]
    public async Task Check_ServerAnsweringAnError_CountsAsFailing()
    {
        A.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 404;
            return Task.CompletedTask;
        });

        var run = await CheckAsync("--proxy", $"llama3.2={A.BaseUri}");

        run.ExitCode.Should().Be(ExitCodes.CheckFailed);
        Cells(run.Output)[1].Skip(2).Should().Equal("error", "-", "-", "/api/version answered 404");
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task Check_ServerWantingAKey_FailsSayingHowToGiveIt(int status)
    {
        A.Map("GET", "/api/version", (context, _) =>
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        });

        var run = await CheckAsync("--connection", $"gpu1={A.BaseUri}", "--proxy", "llama3.2=gpu1");

        run.ExitCode.Should().Be(ExitCodes.CheckFailed);
        Cells(run.Output)[1].Skip(2).Should().Equal(
            "error", "-", "-", $"/api/version answered {status}: it wants a key; give it with --connection-header gpu1=Authorization=env:VARIABLE");
    }

    [Fact]
    public async Task Check_ServerWantingAKeyWithClientsKeysPassedOn_OkWithModelsUnchecked()
    {
        A.Map("GET", "/api/version", static (context, _) =>
        {
            context.Response.StatusCode = 401;
            return Task.CompletedTask;
        });

        var run = await CheckAsync("--proxy", $"llama3.2={A.BaseUri}", "--api-key", "sk-one", "--forward-authorization");

        run.ExitCode.Should().Be(ExitCodes.Success);
        Cells(run.Output)[1].Skip(2).Should().Equal(
            "ok", "-", "-", "/api/version answered 401: it wants each client's own key (passed on with --forward-authorization); its models were not checked");
    }

    [Fact]
    public async Task Check_BadConfiguration_Exits2WithoutAskingAnyServer()
    {
        var run = await CheckAsync("--proxy", $"llama3.2={A.BaseUri}v1");

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Output.Should().BeEmpty();
        run.Error.Should().Be(
            $"gollamas: --proxy \"llama3.2={A.BaseUri}v1\": Ollama's API is at the server's root: use {Root(A)}, not {A.BaseUri}v1{Environment.NewLine}");
        A.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Check_NeverListens_TheListenPortStaysTheHolders()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        using var held = new TcpListener(IPAddress.Loopback, 0);
        held.Start();
        var port = ((IPEndPoint)held.LocalEndpoint).Port;

        var run = await CheckAsync("--listen", $"127.0.0.1:{port}", "--proxy", $"llama3.2={A.BaseUri}");

        run.ExitCode.Should().Be(ExitCodes.Success, "binding the held port would have failed");
        run.Error.Should().BeEmpty();
    }

    [Fact]
    public async Task Check_AddressWithoutSchemeAndCredentials_NotedOnStderr_NoPasswordPrinted()
    {
        A.Models = [new FakeModel("llama3.2:latest")];
        B.Models = [new FakeModel("phi4:latest")];
        var address = A.BaseUri.Authority;

        var run = await CheckAsync("--proxy", $"llama3.2={address}", "--proxy", $"phi4=http://admin:s3cret@{B.BaseUri.Authority}");

        run.ExitCode.Should().Be(ExitCodes.Success);
        run.Error.Should().Be($"gollamas: --proxy \"llama3.2={address}\": read as http://{address}{Environment.NewLine}");
        Cells(run.Output)[2][1].Should().Be(Root(B));
        run.Output.Should().NotContain("s3cret").And.NotContain("admin");
        B.Requests.Should().OnlyContain(static r => r.Headers["Authorization"] == "Basic YWRtaW46czNjcmV0");
    }

    private static string Row(params string[] cells) => string.Join(" | ", cells);

    private static string Root(FakeOllamaServer fake) => fake.BaseUri.GetLeftPart(UriPartial.Authority);

    // Each line's cells (the table pads with two spaces or more); the verdict is one cell.
    private static List<string[]> Cells(string output) =>
        [.. output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Select(static line => line.StartsWith("OK:", StringComparison.Ordinal) || line.StartsWith("FAILED:", StringComparison.Ordinal)
            ? [line]
            : Columns().Split(line))];

    private static async Task<GollamasCommandTests.CliRun> CheckAsync(params string[] args)
    {
        var serverStarted = false;
        var command = GollamasCommand.Create(_ => null, (_, _, _) =>
        {
            serverStarted = true;
            return Task.FromResult(ExitCodes.Success);
        });
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await GollamasCommand.InvokeAsync(command, ["check", .. args], GollamasCommandTests.Configuration(output, error), CancellationToken.None).DefaultTimeout();

        serverStarted.Should().BeFalse("check never runs the server");
        return new GollamasCommandTests.CliRun(exitCode, output.ToString(), error.ToString(), null);
    }

    private static List<string> Table(string output) => [.. Cells(output).Select(static cells => Row(cells))];

    [GeneratedRegex("  +")]
    private static partial Regex Columns();
}
