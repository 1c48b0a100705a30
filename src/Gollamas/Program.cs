using System.CommandLine;
using Gollamas.Cli;
using Gollamas.Hosting;

// Before any socket exists: the socket engine reads this once, when it starts.
ProxyServer.PreferInlineCompletions();

var command = GollamasCommand.Create(Environment.GetEnvironmentVariable, ProxyServer.RunAsync);
var configuration = new InvocationConfiguration
{
    // System.CommandLine's 2 s default would cut streaming generations on SIGTERM. The server
    // bounds its own drain (--drain-timeout, at most 1000h) once the token is cancelled, so this
    // only has to be longer than any drain.
    ProcessTerminationTimeout = TimeSpan.FromHours(1001),
};

return await GollamasCommand.InvokeAsync(command, args, configuration, CancellationToken.None);
