using System.CommandLine;
using Gollamas.Cli;
using Gollamas.Hosting;

// Before any socket exists: the socket engine reads this once, when it starts.
ProxyServer.PreferInlineCompletions();

var command = GollamasCommand.Create(
    Environment.GetEnvironmentVariable,
    ProxyServer.RunAsync,
    environmentVariableNames: static () => Environment.GetEnvironmentVariables().Keys.Cast<string>());
var configuration = new InvocationConfiguration
{
    // System.CommandLine's 2 s default would cut streaming generations on SIGTERM. The server
    // bounds its own drain (--drain-timeout) once the token is cancelled, so this only has to be
    // longer than any sensible drain; it waits with Task.Wait, which takes at most int.MaxValue
    // milliseconds (about 24 days): anything longer crashes the signal handler.
    ProcessTerminationTimeout = TimeSpan.FromMilliseconds(int.MaxValue),
};

return await GollamasCommand.InvokeAsync(command, args, configuration, CancellationToken.None);
