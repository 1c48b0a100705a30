using Gollamas.Bodies;
using Gollamas.Config;
using Gollamas.Hosting;
using static Gollamas.Tests.Cli.GollamasCommandTests;

namespace Gollamas.Tests.Config;

/// <summary>The lifecycle flags and variables, from the command line to the options the server gets.</summary>
public class LifecycleParserTests
{
    // Two models, an alias of the first, and a model on a registry with a namespace.
    private static readonly string[] s_models =
    [
        "--proxy", "llama3.2=http://gpu1:11434", "--proxy", "qwen3:8b=http://gpu2:11434",
        "--proxy", "nomic-embed-text=http://gpu2:11434", "--alias", "gpt-4o=llama3.2",
    ];

    [Theory]
    [InlineData("-1", "-1")]
    [InlineData("-5m", "-1")]
    [InlineData("0", "0")]
    [InlineData("0s", "0")]
    [InlineData("300", "300")]
    [InlineData("1.5", "\"1.5s\"")]
    [InlineData("5m", "300")]
    [InlineData("1h30m", "5400")]
    [InlineData("250ms", "\"0.25s\"")]
    [InlineData("1m0.5s", "\"60.5s\"")]
    [InlineData("8760h", "31536000")]
    [InlineData("876000h", "3153600000")]
    [InlineData("876001h", "-1")]
    [InlineData("2562047h", "-1")]
    public async Task KeepAlive_OllamaDurations_BecomeSecondsInJson(string value, string json)
    {
        var run = await InvokeAsync([.. s_models, "--keep-alive", value]);

        run.ExitCode.Should().Be(ExitCodes.Success, run.Error);
        var defaults = run.Options!.Lifecycle.Global;
        Text(defaults.KeepAliveValue).Should().Be(json);
        Text(defaults.KeepAliveMember).Should().Be(",\"keep_alive\":" + json);
        defaults.KeepAliveText.Should().Be(value);
        defaults.ForceKeepAlive.Should().BeFalse();
        run.Options.Lifecycle.For("qwen3:8b").Should().BeSameAs(defaults);
    }

    [Theory]
    [InlineData("5d", "--keep-alive \"5d\": invalid duration (expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)")]
    [InlineData("soon", "--keep-alive \"soon\": invalid duration (expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)")]
    [InlineData("5 m", "--keep-alive \"5 m\": invalid duration (expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)")]
    [InlineData("llama3.2=", "--keep-alive \"llama3.2=\": empty value (expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)")]
    [InlineData("=5m", "--keep-alive \"=5m\": empty model name (expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)")]
    [InlineData("mistral=5m", "--keep-alive \"mistral=5m\": 'mistral' is not a configured model or alias")]
    [InlineData("9999999h", "--keep-alive \"9999999h\": invalid duration (expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)")]
    [InlineData("50ns", "--keep-alive \"50ns\": shorter than 1ms (expected [MODEL=]DURATION: -1 for forever, 0, 300 (seconds), 5m, 1h30m)")]
    public async Task KeepAlive_Invalid_IsAConfigurationError(string value, string message)
    {
        var run = await InvokeAsync([.. s_models, "--keep-alive", value]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be($"gollamas: {message}\n");
        run.Options.Should().BeNull();
    }

    [Theory]
    [InlineData("0", "--num-ctx \"0\": invalid context size (expected [MODEL=]N, a whole number of tokens of at least 1)")]
    [InlineData("-1", "--num-ctx \"-1\": invalid context size (expected [MODEL=]N, a whole number of tokens of at least 1)")]
    [InlineData("8k", "--num-ctx \"8k\": invalid context size (expected [MODEL=]N, a whole number of tokens of at least 1)")]
    [InlineData("4096.5", "--num-ctx \"4096.5\": invalid context size (expected [MODEL=]N, a whole number of tokens of at least 1)")]
    [InlineData("99999999999", "--num-ctx \"99999999999\": invalid context size (expected [MODEL=]N, a whole number of tokens of at least 1)")]
    [InlineData("qwen3=8192", "--num-ctx \"qwen3=8192\": 'qwen3' is not a configured model or alias")]
    public async Task NumCtx_Invalid_IsAConfigurationError(string value, string message)
    {
        var run = await InvokeAsync([.. s_models, "--num-ctx", value]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be($"gollamas: {message}\n");
    }

    [Fact]
    public async Task PerModel_WinsOverGlobal_AndAliasesAndSpellingsNameTheModel()
    {
        var run = await InvokeAsync([
            .. s_models,
            "--keep-alive", "10m", "--keep-alive", "GPT-4o=-1",
            "--force-num-ctx", "4096", "--num-ctx", "qwen3:8b=32768",
            "--force-keep-alive", "registry.ollama.ai/library/nomic-embed-text:latest=0"]);

        run.ExitCode.Should().Be(ExitCodes.Success, run.Error);
        var lifecycle = run.Options!.Lifecycle;

        var llama = lifecycle.For("llama3.2");
        (llama.KeepAliveText, llama.ForceKeepAlive, llama.NumCtx, llama.ForceNumCtx).Should().Be(("-1", false, 4096, true));
        var qwen = lifecycle.For("qwen3:8b");
        (qwen.KeepAliveText, qwen.ForceKeepAlive, qwen.NumCtx, qwen.ForceNumCtx).Should().Be(("10m", false, 32768, false));
        var embed = lifecycle.For("nomic-embed-text");
        (embed.KeepAliveText, embed.ForceKeepAlive, embed.NumCtx, embed.ForceNumCtx).Should().Be(("0", true, 4096, true));
        (lifecycle.Global.KeepAliveText, lifecycle.Global.NumCtx, lifecycle.Global.ForceNumCtx).Should().Be(("10m", 4096, true));
    }

    [Fact]
    public async Task NoSetting_LeavesEveryModelUntouched()
    {
        var run = await InvokeAsync(s_models);

        run.ExitCode.Should().Be(ExitCodes.Success, run.Error);
        run.Options!.Lifecycle.Global.Should().BeSameAs(RequestDefaults.None);
        run.Options.Lifecycle.For("llama3.2").IsEmpty.Should().BeTrue();
        run.Options.Lifecycle.Preload.Should().BeEmpty();
        run.Options.Lifecycle.PingInterval.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task Variables_AreCommaLists_AndFlagsReplaceThem()
    {
        var env = Env(
            ("GOLLAMAS_KEEP_ALIVE", "llama3.2=-1,10m"),
            ("GOLLAMAS_NUM_CTX", "8192"),
            ("GOLLAMAS_FORCE_NUM_CTX", "qwen3:8b=2048"),
            ("GOLLAMAS_FORCE_KEEP_ALIVE", "nomic-embed-text=1h"),
            ("GOLLAMAS_PRELOAD", "gpt-4o, qwen3:8b"),
            ("GOLLAMAS_PING_INTERVAL", "4m"));

        var fromVariables = await InvokeAsync(s_models, env);
        var withFlag = await InvokeAsync([.. s_models, "--num-ctx", "llama3.2=1024", "--preload", "nomic-embed-text"], env);

        fromVariables.ExitCode.Should().Be(ExitCodes.Success, fromVariables.Error);
        var lifecycle = fromVariables.Options!.Lifecycle;
        (lifecycle.For("llama3.2").KeepAliveText, lifecycle.For("llama3.2").NumCtx).Should().Be(("-1", 8192));
        (lifecycle.For("qwen3:8b").KeepAliveText, lifecycle.For("qwen3:8b").NumCtx, lifecycle.For("qwen3:8b").ForceNumCtx).Should().Be(("10m", 2048, true));
        (lifecycle.For("nomic-embed-text").KeepAliveText, lifecycle.For("nomic-embed-text").ForceKeepAlive).Should().Be(("1h", true));
        lifecycle.Preload.Should().Equal("llama3.2", "qwen3:8b");
        lifecycle.PingInterval.Should().Be(TimeSpan.FromMinutes(4));

        withFlag.ExitCode.Should().Be(ExitCodes.Success, withFlag.Error);
        withFlag.Options!.Lifecycle.Global.NumCtx.Should().BeNull();
        withFlag.Options.Lifecycle.For("qwen3:8b").NumCtx.Should().Be(2048, "the forced value of the variable still applies");
        withFlag.Options.Lifecycle.For("llama3.2").NumCtx.Should().Be(1024);
        withFlag.Options.Lifecycle.For("nomic-embed-text").NumCtx.Should().BeNull("the flag replaced the variable's global 8192");
        withFlag.Options.Lifecycle.Preload.Should().Equal("nomic-embed-text");
    }

    [Theory]
    [InlineData(new[] { "--keep-alive", "5m", "--keep-alive", "10m" }, "--keep-alive \"10m\": global value already set (\"5m\"); give MODEL=VALUE for one model")]
    [InlineData(new[] { "--num-ctx", "llama3.2=1024,gpt-4o=2048" }, "--num-ctx \"gpt-4o=2048\": model 'llama3.2' already has a value (\"llama3.2=1024\")")]
    [InlineData(new[] { "--keep-alive", "5m", "--force-keep-alive", "-1" }, "--keep-alive \"5m\": a global keep-alive is also forced (--force-keep-alive); give one of them")]
    [InlineData(new[] { "--num-ctx", "llama3.2=1024", "--force-num-ctx", "gpt-4o=2048" }, "--num-ctx \"llama3.2=1024\": the num-ctx of model 'llama3.2' is also forced (--force-num-ctx \"gpt-4o=2048\"); give one of them")]
    [InlineData(new[] { "--preload", "mistral" }, "--preload \"mistral\": 'mistral' is not a configured model or alias")]
    [InlineData(new[] { "--preload", "llama3.2,", }, "--preload: empty entry (expected a configured model or alias)")]
    [InlineData(new[] { "--preload", "gpt-4o", "--force-keep-alive", "llama3.2=0" }, "--preload \"gpt-4o\": model 'llama3.2' has keep-alive 0: a preload would unload it (give -1 or at least 1s)")]
    [InlineData(new[] { "--preload", "qwen3:8b", "--keep-alive", "500ms" }, "--preload \"qwen3:8b\": model 'qwen3:8b' has keep-alive 500ms: a preload would unload it (give -1 or at least 1s)")]
    [InlineData(new[] { "--ping-interval", "500ms", "--preload", "qwen3:8b" }, "--ping-interval \"500ms\": out of range (expected 0 for never, or 1s to 1000h)")]
    [InlineData(new[] { "--ping-interval", "5m" }, "--ping-interval \"5m\": pings keep the --preload models loaded, and none is given")]
    [InlineData(new[] { "--ping-interval", "soon", "--preload", "qwen3:8b" }, "--ping-interval \"soon\": invalid duration (expected e.g. 250ms, 5s, 10m, 1h30m, or seconds)")]
    public async Task Conflicts_AreConfigurationErrors(string[] flags, string message)
    {
        var run = await InvokeAsync([.. s_models, .. flags]);

        run.ExitCode.Should().Be(ExitCodes.ConfigError);
        run.Error.Should().Be($"gollamas: {message}\n");
    }

    [Fact]
    public async Task Preload_ResolvesAliasesOnce_AndPingIntervalZeroIsOff()
    {
        var run = await InvokeAsync([.. s_models, "--preload", "gpt-4o", "--preload", "llama3.2:latest,nomic-embed-text", "--ping-interval", "0"]);

        run.ExitCode.Should().Be(ExitCodes.Success, run.Error);
        run.Options!.Lifecycle.Preload.Should().Equal("llama3.2", "nomic-embed-text");
        run.Options.Lifecycle.PingInterval.Should().Be(TimeSpan.Zero);
    }

    private static string Text(ReadOnlyMemory<byte> bytes) => System.Text.Encoding.UTF8.GetString(bytes.Span);
}
