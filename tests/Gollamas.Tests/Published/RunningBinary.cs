using System.Collections.Concurrent;
using System.Diagnostics;
using Gollamas.Tests.Infrastructure;

namespace Gollamas.Tests.Published;

/// <summary>A started gollamas process, its address (read from its start-up log) and its output.</summary>
internal sealed class RunningBinary : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunningBinary(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _listening.TrySetException(new InvalidOperationException("gollamas exited before listening:\n" + Stderr));
                return;
            }

            _stderr.Enqueue(e.Data);
            var at = e.Data.IndexOf("Listening on ", StringComparison.Ordinal);
            if (at >= 0)
            {
                _listening.TrySetResult(new Uri(e.Data[(at + "Listening on ".Length)..].Trim()));
            }
        };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stdout.Enqueue(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Standard output so far, one entry per line (complete once the process has exited).</summary>
    public string Stdout => string.Join('\n', _stdout);

    public Process Process => _process;

    public static async Task<RunningBinary> StartAsync(params string[] args) =>
        Start(await PublishedBinary.PathAsync(), [], args);

    /// <summary>Starts the binary with <paramref name="environment"/> set in its environment.</summary>
    public static async Task<RunningBinary> StartAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(await PublishedBinary.PathAsync(), [], environment, args);

    /// <summary>
    /// Starts <paramref name="program"/> with <paramref name="leadingArgs"/> before the proxy's
    /// own <paramref name="args"/>: the binary itself, or a launcher such as qemu that runs it.
    /// </summary>
    public static RunningBinary Start(string program, IReadOnlyList<string> leadingArgs, params string[] args) =>
        Start(program, leadingArgs, new Dictionary<string, string>(), args);

    private static RunningBinary Start(string program, IReadOnlyList<string> leadingArgs, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in leadingArgs.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        // The test process's own variables must not leak into the proxy's configuration.
        var legacy = new[] { "PROXIES", "LISTEN", "ALIASES", "CONNECTIONS", "LEVEL", "LIST_ALIASES" };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("GOLLAMAS_", StringComparison.Ordinal) || legacy.Contains(k)).ToArray())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return new RunningBinary(Process.Start(start)!);
    }

    /// <summary>The address it listens on, once its start-up log says so (within <paramref name="timeout"/>, default <see cref="TestTimeouts.Default"/>).</summary>
    public Task<Uri> ListeningAsync(TimeSpan? timeout = null) => _listening.Task.DefaultTimeout(timeout);

    /// <summary>Sends SIGTERM, as systemd and Kubernetes stop it.</summary>
    public void Terminate() => Signal("TERM");

    /// <summary>Sends a signal by name (TERM, HUP...).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        kill.ExitCode.Should().Be(0);
    }

    /// <summary>Completes when a line of its standard error contains <paramref name="text"/>.</summary>
    public Task WaitForStderrAsync(string text)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.Contains(text, StringComparison.Ordinal) == true)
            {
                seen.TrySetResult();
            }
        };
        return seen.Task;
    }

    /// <summary>Its exit code, once it has exited and its output has been read to the end.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        await _process.WaitForExitAsync().DefaultTimeout(timeout ?? TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
