using System.CommandLine;
using System.CommandLine.Invocation;
using Gollamas.Diagnostics;
using Gollamas.Hosting;

namespace Gollamas.Cli;

/// <summary>
/// Replaces the action of System.CommandLine's built-in <c>--version</c>, which prints the bare
/// informational version, so that it prints the same line as <c>gollamas version</c>.
/// </summary>
internal sealed class VersionOptionAction : SynchronousCommandLineAction
{
    // Like the built-in action: "--version" wins over anything else wrong on the line.
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        parseResult.InvocationConfiguration.Output.WriteLine(VersionInfo.Line);
        return ExitCodes.Success;
    }
}
