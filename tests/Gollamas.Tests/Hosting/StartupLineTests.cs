using Gollamas.Config;
using Gollamas.Diagnostics;
using Gollamas.Hosting;
using Gollamas.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Gollamas.Tests.Hosting;

/// <summary>The one start-up line: version, listen address, models and connections, at info and at warn alike.</summary>
public sealed class StartupLineTests : TwoServersTest
{
    [Theory]
    [InlineData(LogLevel.Warning, "Warning")]
    [InlineData(LogLevel.Information, "Information")]
    public async Task Start_AnyLevelUpToWarn_OneLineSaysVersionAddressModelsAndConnections(LogLevel level, string shown)
    {
        var input = new ConfigInput(
            new ConfigEntry("127.0.0.1:0", "--listen"),
            new ConfigEntry("warn", "--level"),
            [new ConfigEntry($"llama3.2={A.BaseUri}", "--proxy"), new ConfigEntry($"qwen3:8b={A.BaseUri}", "--proxy"), new ConfigEntry($"qwen3:30b={B.BaseUri}", "--proxy")],
            [],
            [],
            new ConfigEntry(string.Empty, "--list-aliases"));
        ConfigParser.TryParse(input, out var options, out var errors).Should().BeTrue(string.Join("; ", errors));
        var logs = new ProxyUnderTest.CapturedLogs();

        await using var server = await ProxyServer.StartAsync(
            options!,
            new ServerLimits { ProbeAtStart = false, CheckModels = false },
            logging =>
            {
                logging.SetMinimumLevel(level);
                logging.AddProvider(logs);
            },
            CancellationToken.None);

        var line = $"{shown}: {VersionInfo.Line} listening on {server.Addresses[0]} with 3 models and 2 connections";
        if (level == LogLevel.Warning)
        {
            logs.Lines.Should().Equal(line);
        }
        else
        {
            logs.Lines.Should().ContainSingle(l => l.Contains(" listening on ", StringComparison.Ordinal)).Which.Should().Be(line);
        }
    }
}
