using Gollamas.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gollamas.Hosting;

/// <summary>
/// Calls back when the configuration file's content changes: written in place, replaced by a
/// rename (as editors save), or re-pointed through a symbolic link (as a Kubernetes ConfigMap
/// volume updates: its <c>..data</c> link is swapped to a new directory).
/// </summary>
/// <remarks>
/// The file's directory is watched, not the file: a rename or a swapped link never changes the
/// old file, and a watch on it would see nothing. Every event in the directory starts a short
/// quiet period (saves come in bursts of events); when it ends, the file is read, and only a
/// content that differs from the last one seen calls back. A file missing at that moment (between
/// an editor's delete and its rename) is no change: the next event looks again.
/// </remarks>
internal sealed partial class ConfigFileWatcher : IDisposable
{
    private readonly string _path;
    private readonly Func<Task> _changed;
    private readonly ILogger _logger;
    private readonly FileSystemWatcher _watcher;
    private readonly ITimer _quiet;
    private readonly TimeSpan _quietPeriod;
    private readonly Lock _lock = new();
    private byte[] _content;
    private bool _disposed;

    /// <param name="path">The configuration file.</param>
    /// <param name="quietPeriod">How long the directory must stay quiet before the file is read.</param>
    /// <param name="time">The clock of the quiet period.</param>
    /// <param name="changed">What to do when the content changed; one call at a time.</param>
    /// <param name="logger">Where a watch that failed is reported.</param>
    /// <param name="readContent">
    /// The content the configuration in force was read from: a file that changed between that
    /// reading and this watch is found changed at once. Null: the content when the watch starts.
    /// </param>
    public ConfigFileWatcher(string path, TimeSpan quietPeriod, TimeProvider time, Func<Task> changed, ILogger<ConfigFileWatcher> logger, byte[]? readContent = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _path = Path.GetFullPath(path);
        _changed = changed;
        _logger = logger;
        _quietPeriod = quietPeriod;
        _content = readContent ?? ReadContent() ?? [];
        _quiet = time.CreateTimer(static state => ((ConfigFileWatcher)state!).OnQuiet(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            IncludeSubdirectories = false,
        };
        _watcher.Changed += (_, _) => Poke();
        _watcher.Created += (_, _) => Poke();
        _watcher.Deleted += (_, _) => Poke();
        _watcher.Renamed += (_, _) => Poke();
        _watcher.Error += (_, _) =>
        {
            // The kernel's queue overflowed: events were lost, so look at the file anyway.
            Log.WatchOverflowed(_logger, _path);
            Poke();
        };
        _watcher.EnableRaisingEvents = true;
        if (readContent is not null)
        {
            // Changes made before the watch began raised no event: look once now.
            Poke();
        }
    }

    /// <summary>Raised after each look at the file, with whether its content had changed.</summary>
    public event Action<bool>? Checked;

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _watcher.Dispose();
        _quiet.Dispose();
    }

    // Each event restarts the quiet period.
    private void Poke()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _quiet.Change(_quietPeriod, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void OnQuiet() => _ = CheckAsync();

    private async Task CheckAsync()
    {
        byte[]? content;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            content = ReadContent();
            if (content is not null && !content.AsSpan().SequenceEqual(_content))
            {
                _content = content;
            }
            else
            {
                content = null;
            }
        }

        if (content is not null)
        {
            await _changed();
        }

        Checked?.Invoke(content is not null);
    }

    private byte[]? ReadContent()
    {
        try
        {
            return File.ReadAllBytes(_path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ConfigWatchFailed, LogLevel.Warning, "Watching {Path} lost events (too many changes at once); reading it again", EventName = "ConfigWatchFailed")]
        public static partial void WatchOverflowed(ILogger logger, string path);
    }
}
