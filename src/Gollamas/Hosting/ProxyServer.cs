using Gollamas.Config;

namespace Gollamas.Hosting;

/// <summary>Runs the proxy until cancelled. (Placeholder until the host lands.)</summary>
internal static class ProxyServer
{
    public static Task<int> RunAsync(GollamasOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Task.FromResult(Cli.ExitCodes.Unexpected);
    }
}
