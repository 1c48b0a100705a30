using System.Runtime.InteropServices;

namespace Gollamas.Hosting;

/// <summary>
/// SIGHUP, which re-reads the API keys file instead of ending the process. A process started
/// with SIGHUP ignored (<c>nohup</c>, some supervisors) inherits that disposition, and .NET then
/// never hands the signal to a registration: it registers without error and never runs
/// (measured). So the disposition is reset to the default just before registering, as nginx
/// installs its own handlers whatever it inherited.
/// </summary>
internal static partial class HangupSignal
{
    // The same number on Linux and macOS; SIG_DFL is 0 on both.
    private const int SigHup = 1;
    private const nint DefaultDisposition = 0;

    /// <summary>Runs <paramref name="onHangup"/> on every SIGHUP until the registration is disposed.</summary>
    public static PosixSignalRegistration Register(Action onHangup)
    {
        if (!OperatingSystem.IsWindows())
        {
            // Until the registration below, a SIGHUP would end the process (the default action):
            // a window of one call at start-up, against a reload that would never work.
            _ = Signal(SigHup, DefaultDisposition);
        }

        return PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            onHangup();
        });
    }

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint Signal(int signal, nint handler);
}
