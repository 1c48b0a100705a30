using System.CommandLine;
using Gollamas.Cli;
using Gollamas.Hosting;

// Before any socket exists: the socket engine reads this once, when it starts.
ProxyServer.PreferInlineCompletions();

var command = GollamasCommand.Create(Environment.GetEnvironmentVariable, ProxyServer.RunAsync);
var configuration = new InvocationConfiguration
{
    // System.CommandLine's 2 s default would cut streaming generations on SIGTERM; the server
    // drains in-flight requests itself once the token is cancelled.
    ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
};

return await GollamasCommand.InvokeAsync(command, args, configuration, CancellationToken.None);
