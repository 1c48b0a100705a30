using Gollamas.Hosting;
using Gollamas.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gollamas.Tests.Hosting;

/// <summary>
/// The configuration file's watcher sees the ways a file is changed in practice: written in
/// place, replaced by a rename (editors), re-pointed by a swapped symbolic link (a Kubernetes
/// ConfigMap volume); and only a new content counts as a change.
/// </summary>
public sealed class ConfigFileWatcherTests : IDisposable
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(50);

    private readonly string _directory = Directory.CreateTempSubdirectory("gollamas-watch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task WrittenInPlace_CallsBackOnce()
    {
        var file = Write("gollamas.yaml", "listen: :1\n");
        using var watched = Watch(file);

        await File.WriteAllTextAsync(file, "listen: :2\n");

        (await watched.NextChange()).Should().Be("listen: :2\n");
    }

    [Fact]
    public async Task ReplacedByARename_CallsBack()
    {
        var file = Write("gollamas.yaml", "listen: :1\n");
        using var watched = Watch(file);

        var saved = Write(".gollamas.yaml.swp", "listen: :3\n");
        File.Move(saved, file, overwrite: true);

        (await watched.NextChange()).Should().Be("listen: :3\n");
    }

    [Fact]
    public async Task ConfigMapUpdate_TheDataLinkSwapped_CallsBack()
    {
        // A ConfigMap volume: gollamas.yaml -> ..data/gollamas.yaml, ..data -> ..2026_a; an update
        // writes ..2026_b, points ..data_tmp at it and renames ..data_tmp over ..data.
        Directory.CreateDirectory(Path.Combine(_directory, "..2026_a"));
        Write(Path.Combine("..2026_a", "gollamas.yaml"), "listen: :1\n");
        File.CreateSymbolicLink(Path.Combine(_directory, "..data"), "..2026_a");
        var file = Path.Combine(_directory, "gollamas.yaml");
        File.CreateSymbolicLink(file, Path.Combine("..data", "gollamas.yaml"));
        using var watched = Watch(file);

        Directory.CreateDirectory(Path.Combine(_directory, "..2026_b"));
        Write(Path.Combine("..2026_b", "gollamas.yaml"), "listen: :4\n");
        File.CreateSymbolicLink(Path.Combine(_directory, "..data_tmp"), "..2026_b");
        Rename(Path.Combine(_directory, "..data_tmp"), Path.Combine(_directory, "..data"));

        (await watched.NextChange()).Should().Be("listen: :4\n");
    }

    [Fact]
    public async Task TheSameContentWrittenAgain_IsNoChange()
    {
        var file = Write("gollamas.yaml", "listen: :1\n");
        using var watched = Watch(file);

        var looked = watched.NextCheck();
        await File.WriteAllTextAsync(file, "listen: :1\n");
        var changed = await looked.DefaultTimeout();

        changed.Should().BeFalse();
        watched.Changes.Should().BeEmpty();
    }

    [Fact]
    public async Task TheFileGoneForAMoment_IsNoChange_UntilItIsBack()
    {
        var file = Write("gollamas.yaml", "listen: :1\n");
        using var watched = Watch(file);

        var looked = watched.NextCheck();
        File.Delete(file);
        var changedWhileGone = await looked.DefaultTimeout();
        Write("gollamas.yaml", "listen: :5\n");

        changedWhileGone.Should().BeFalse();
        (await watched.NextChange()).Should().Be("listen: :5\n");
    }

    [Fact]
    public async Task AFileChangedAfterItWasReadAndBeforeTheWatchBegan_CallsBackAtOnce()
    {
        var file = Write("gollamas.yaml", "listen: :6\n");

        using var watched = new Watched(file, readContent: "listen: :1\n"u8.ToArray());

        (await watched.NextChange()).Should().Be("listen: :6\n");
    }

    [Fact]
    public async Task AFileUnchangedSinceItWasRead_IsNoChange()
    {
        var file = Write("gollamas.yaml", "listen: :1\n");
        var looked = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        using var watched = new Watched(file, readContent: "listen: :1\n"u8.ToArray(), firstCheck: looked);

        (await looked.Task.DefaultTimeout()).Should().BeFalse();
        watched.Changes.Should().BeEmpty();
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    // rename(2) replaces a link atomically, as kubelet does; File.Move would refuse the directory link.
    private static void Rename(string from, string to)
    {
        using var process = System.Diagnostics.Process.Start("mv", ["-T", from, to]);
        process.WaitForExit();
        process.ExitCode.Should().Be(0);
    }

    private static Watched Watch(string file) => new(file);

    private sealed class Watched : IDisposable
    {
        private readonly ConfigFileWatcher _watcher;
        private readonly string _file;
        private TaskCompletionSource<string> _change = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource<bool> _check = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Watched(string file, byte[]? readContent = null, TaskCompletionSource<bool>? firstCheck = null)
        {
            _file = file;
            if (firstCheck is not null)
            {
                _check = firstCheck;
            }

            _watcher = new ConfigFileWatcher(file, Quiet, TimeProvider.System, OnChange, NullLogger<ConfigFileWatcher>.Instance, readContent);
            _watcher.Checked += changed => _check.TrySetResult(changed);
        }

        public List<string> Changes { get; } = [];

        public Task<string> NextChange() => _change.Task.DefaultTimeout();

        public Task<bool> NextCheck()
        {
            _check = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _check.Task;
        }

        public void Dispose() => _watcher.Dispose();

        private Task OnChange()
        {
            var content = File.ReadAllText(_file);
            lock (Changes)
            {
                Changes.Add(content);
            }

            _change.TrySetResult(content);
            return Task.CompletedTask;
        }
    }
}
