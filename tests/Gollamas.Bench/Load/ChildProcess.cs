using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gollamas.Bench.Load;

/// <summary>
/// A server the load run started (backend, nginx or Gollamas): knows when it was spawned, can
/// tell when it first answers <c>GET /</c>, and is stopped with its whole tree when disposed,
/// so nginx workers never outlive their master: SIGTERM first (nginx then reaps its
/// workers), SIGKILL for the whole tree if that takes longer than 3 s.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly byte[] s_probe = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray();

    private readonly Process _process;
    private readonly long _spawned;
    private readonly Queue<string> _stderrTail = new();
    private StreamWriter? _log;

    private ChildProcess(string name, Process process, long spawned, int port)
    {
        Name = name;
        _process = process;
        _spawned = spawned;
        Port = port;
    }

    public string Name { get; }

    public int Port { get; }

    public int Id => _process.Id;

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    /// <param name="log">A file that gets every line the child writes, or null.</param>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, int port, IReadOnlyDictionary<string, string>? environment = null, string? log = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var spawned = Stopwatch.GetTimestamp();
        process.Start();
        var child = new ChildProcess(name, process, spawned, port)
        {
            _log = log is null ? null : new StreamWriter(log, append: false),
        };
        process.ErrorDataReceived += (_, e) => child.Remember(e.Data);
        process.OutputDataReceived += (_, e) => child.Remember(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return child;
    }

    /// <summary>
    /// Polls <c>GET /</c> until it answers 200 and returns the time since spawn; throws with the
    /// child's last output when it exits or does not answer in time.
    /// </summary>
    public async Task<TimeSpan> WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}: {StderrTail()}");
            }

            if (await AnswersAsync())
            {
                return Stopwatch.GetElapsedTime(_spawned);
            }

            // This measures another process's start-up (scenario 5), not a test's ordering: nginx
            // and a proxy at --level warn announce nothing when they listen, so answering GET / is
            // the only signal there is, and it is polled. 1 ms keeps the figure sharp.
            await Task.Delay(1);
        }

        throw new TimeoutException($"{Name} did not answer GET / on port {Port} within {timeout.TotalSeconds} s: {StderrTail()}");
    }

    public string StderrTail()
    {
        lock (_stderrTail)
        {
            return string.Join(" | ", _stderrTail);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Signals.Terminate(_process.Id);
                if (!_process.WaitForExit(3000))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(5000);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        lock (_stderrTail)
        {
            _log?.Dispose();
            _log = null;
        }
    }

    private void Remember(string? line)
    {
        if (string.IsNullOrEmpty(line))
        {
            return;
        }

        lock (_stderrTail)
        {
            _log?.WriteLine(line);
            _stderrTail.Enqueue(line);
            while (_stderrTail.Count > 10)
            {
                _stderrTail.Dequeue();
            }
        }
    }

    private async Task<bool> AnswersAsync()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(EndPoint);
            await socket.SendAsync(s_probe);
            var buffer = new byte[64];
            var read = 0;
            while (read < 12)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(read));
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return buffer.AsSpan(0, 12).SequenceEqual("HTTP/1.1 200"u8);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
