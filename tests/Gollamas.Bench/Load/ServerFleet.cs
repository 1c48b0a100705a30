using System.Globalization;

namespace Gollamas.Bench.Load;

/// <summary>
/// Starts and owns every server of the run: the two fake backends, Gollamas and nginx in front
/// of them. Disposing it kills them all, whatever happened before.
/// </summary>
internal sealed class ServerFleet : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);

    private readonly LoadOptions _options;
    private readonly List<ChildProcess> _children = [];
    private readonly List<string> _directories = [];
    private ChildProcess? _small;
    private ChildProcess? _stream;

    public ServerFleet(LoadOptions options) => _options = options;

    /// <summary>The model names the proxy routes; all reach the fake backends.</summary>
    public const string SmallModel = "bench-small";

    public const string StreamModel = "bench-stream";

    public const string SlowModel = "bench-slow";

    public Target Direct => new("direct", Small.EndPoint, Stream.EndPoint, null);

    public int SmallBackendPid => Small.Id;

    public int StreamBackendPid => Stream.Id;

    private ChildProcess Small => _small ?? throw new InvalidOperationException("backends not started");

    private ChildProcess Stream => _stream ?? throw new InvalidOperationException("backends not started");

    public async Task StartBackendsAsync()
    {
        // The bench itself in backend mode, as its own process: its GC and thread pool must not
        // share with the load generator's.
        var self = typeof(FastBackend).Assembly.Location;
        var smallPort = FreePort.Next();
        _small = Track(ChildProcess.Start("backend", "dotnet", [self, "backend", "--port", Invariant(smallPort)], smallPort));
        var streamPort = FreePort.Next();
        _stream = Track(ChildProcess.Start("stream backend", "dotnet", [self, "backend", "--port", Invariant(streamPort), "--send-per-chunk"], streamPort));
        await _small.WaitUntilAnsweringAsync(s_startTimeout);
        await _stream.WaitUntilAnsweringAsync(s_startTimeout);
    }

    /// <summary>Spawns Gollamas routing the bench models to the backends; does not wait for it.</summary>
    public ChildProcess SpawnGollamas()
    {
        var port = FreePort.Next();
        return Track(ChildProcess.Start("gollamas", _options.ProxyBinary,
        [
            "--listen", $"127.0.0.1:{Invariant(port)}",
            "--level", "warn",
            "--proxy", $"{SmallModel}=http://{Small.EndPoint}",
            "--proxy", $"{StreamModel}=http://{Stream.EndPoint}",
            "--proxy", $"{SlowModel}=http://{Stream.EndPoint}",
        ], port));
    }

    /// <summary>Spawns nginx from bench/nginx.conf.template in a fresh directory; does not wait.</summary>
    public ChildProcess SpawnNginx()
    {
        var nginx = _options.Nginx ?? throw new InvalidOperationException("no nginx");
        var dir = Directory.CreateTempSubdirectory("gollamas-bench-nginx-").FullName;
        _directories.Add(dir);

        // Workers run as another user when the master is root: let them into the directory.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        var port = FreePort.Next();
        var config = File.ReadAllText(Path.Combine(_options.AssetsDirectory, "nginx.conf.template"))
            .Replace("{{DIR}}", dir, StringComparison.Ordinal)
            .Replace("{{PORT}}", Invariant(port), StringComparison.Ordinal)
            .Replace("{{SMALL_PORT}}", Invariant(Small.Port), StringComparison.Ordinal)
            .Replace("{{STREAM_PORT}}", Invariant(Stream.Port), StringComparison.Ordinal);
        var file = Path.Combine(dir, "nginx.conf");
        File.WriteAllText(file, config);

        // -e: the error log before the configuration is read (the packaged default may not be writable).
        return Track(ChildProcess.Start("nginx", nginx, ["-p", dir, "-e", Path.Combine(dir, "error.log"), "-c", file], port));
    }

    public async Task<Target> StartGollamasAsync()
    {
        var proxy = SpawnGollamas();
        await proxy.WaitUntilAnsweringAsync(s_startTimeout);
        return new Target("gollamas", proxy.EndPoint, proxy.EndPoint, proxy);
    }

    public async Task<Target> StartNginxAsync()
    {
        var proxy = SpawnNginx();
        await proxy.WaitUntilAnsweringAsync(s_startTimeout);
        return new Target("nginx", proxy.EndPoint, proxy.EndPoint, proxy);
    }

    /// <summary>Kills one proxy before the run ends (fresh processes per scenario).</summary>
    public void Stop(ChildProcess child)
    {
        child.Dispose();
        _children.Remove(child);
    }

    public void Dispose()
    {
        foreach (var child in _children)
        {
            child.Dispose();
        }

        _children.Clear();
        foreach (var dir in _directories)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A worker still closing its log: leave the temp directory behind.
            }
        }
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private ChildProcess Track(ChildProcess child)
    {
        _children.Add(child);
        return child;
    }
}
