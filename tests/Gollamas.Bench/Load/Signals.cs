using System.Runtime.InteropServices;

namespace Gollamas.Bench.Load;

/// <summary>
/// SIGTERM for child processes: .NET can only SIGKILL (Process.Kill), and a SIGKILLed nginx
/// master leaves its workers as zombies; sent SIGTERM, it stops and reaps them itself.
/// </summary>
internal static partial class Signals
{
    private const int SigTerm = 15;

    public static void Terminate(int pid) => _ = Kill(pid, SigTerm);

    /// <summary>
    /// A token that SIGINT and SIGTERM (build.sh's trap) cancel instead of ending the process,
    /// so a run disposes what it started and kills every child; the default would end the
    /// process with its children left running. Dispose the result to stop listening.
    /// </summary>
    public static StopSignals OnStop() => new();

    /// <summary>SIGINT and SIGTERM as a cancellation token, until disposed.</summary>
    public sealed class StopSignals : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly PosixSignalRegistration _sigint;
        private readonly PosixSignalRegistration _sigterm;

        public StopSignals()
        {
            _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        }

        public CancellationToken Token => _stop.Token;

        public void Dispose()
        {
            _sigint.Dispose();
            _sigterm.Dispose();
            _stop.Dispose();
        }

        private void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            _stop.Cancel();
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks, which the bench project does not set.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
