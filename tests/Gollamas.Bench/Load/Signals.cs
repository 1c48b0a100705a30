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

#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks, which the bench project does not set.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
