using System.Security.Cryptography;
using System.Text;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gollamas.Security;

/// <summary>
/// The API keys clients must present as <c>Authorization: Bearer KEY</c> or <c>x-api-key: KEY</c>: those given on the
/// command line plus those of the keys file, which <see cref="ReloadAsync"/> reads again (on SIGHUP).
/// No key configured means no key needed. Keys are compared in constant time.
/// </summary>
internal sealed partial class ApiKeys
{
    private const int MaxKeyBytes = 1024;

    // A reload reads the file until two reads this far apart agree, so a file caught while it is
    // written ("echo KEY > file" empties it first; an editor may save in several writes) is not
    // taken as it stands: a truncated key would be accepted, or every key refused. A last line
    // without its newline is no sign of that: printf and Kubernetes secrets write files so.
    private const int MaxReads = 20;
    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(100);

    private readonly IReadOnlyList<string> _fixed;
    private readonly string? _file;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private byte[][] _keys;

    // Under _reloadLock: one reload runs at a time, and one asked for meanwhile reads again after it.
    private readonly Lock _reloadLock = new();
    private Task _reloading = Task.CompletedTask;
    private bool _reloadRunning;
    private bool _reloadAgain;

    public ApiKeys(SecurityOptions options, TimeProvider time, ILogger<ApiKeys> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _fixed = options.ApiKeys;
        _file = options.ApiKeysFile;
        _time = time;
        _logger = logger;
        _keys = Build(_fixed, _file is null ? [] : Parse(File.ReadAllText(_file)));
        IsEnabled = _fixed.Count > 0 || _file is not null;
        WarnIfNone(_keys);
    }

    /// <summary>Whether keys are required (a key list or a keys file was configured).</summary>
    public bool IsEnabled { get; }

    /// <summary>Raised after each read of a reload, as it waits to read again (tests wait on it).</summary>
    public event Action? Settling;

    /// <summary>
    /// Reads the keys file again (SIGHUP); on failure the keys in force stay, with a warning.
    /// Reloads run one at a time: one asked for while another runs reads the file again once
    /// that one is done, so the file as it was at the last request wins and an older read never
    /// replaces a newer one. The task completes when a read begun after this call was applied.
    /// </summary>
    public Task ReloadAsync()
    {
        if (_file is null)
        {
            return Task.CompletedTask;
        }

        lock (_reloadLock)
        {
            if (_reloadRunning)
            {
                _reloadAgain = true;
                return _reloading;
            }

            _reloadRunning = true;
            _reloading = ReloadUntilCurrentAsync(_file);
            return _reloading;
        }
    }

    private async Task ReloadUntilCurrentAsync(string file)
    {
        // Off the signal's thread, and out of the lock taken by the caller.
        await Task.Yield();
        while (true)
        {
            await ReloadOnceAsync(file);
            lock (_reloadLock)
            {
                if (!_reloadAgain)
                {
                    _reloadRunning = false;
                    return;
                }

                _reloadAgain = false;
            }
        }
    }

    private async Task ReloadOnceAsync(string file)
    {
        try
        {
            var text = File.ReadAllText(file);
            for (var read = 1; ; read++)
            {
                // The timer is armed before the event: a test that moves the clock on it is not early.
                var settled = Task.Delay(s_settle, _time);
                Settling?.Invoke();
                await settled;
                var again = File.ReadAllText(file);
                if (string.Equals(again, text, StringComparison.Ordinal))
                {
                    break;
                }

                if (read == MaxReads)
                {
                    Log.ReloadUnsettled(_logger, file, (s_settle * MaxReads).TotalSeconds);
                    return;
                }

                text = again;
            }

            var keys = Build(_fixed, Parse(text));
            Volatile.Write(ref _keys, keys);
            Log.Reloaded(_logger, file, keys.Length);
            WarnIfNone(keys);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.ReloadFailed(_logger, file, FileProblem.Describe(ex, file));
        }
    }

    private void WarnIfNone(byte[][] keys)
    {
        if (keys.Length == 0 && _file is not null)
        {
            Log.NoKeys(_logger, _file);
        }
    }

    /// <summary>The header Anthropic's clients send their key in (Claude Code, the Anthropic SDKs).</summary>
    public const string AnthropicKeyHeader = "x-api-key";

    /// <summary>Whether a request header carries a client's key: Authorization or x-api-key.</summary>
    public static bool IsKeyHeader(string name) =>
        string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, AnthropicKeyHeader, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether the request carries one of the keys, as <c>Authorization: Bearer KEY</c> (Ollama's
    /// and OpenAI's clients) or as <c>x-api-key: KEY</c> (Anthropic's); either one matching is enough.
    /// </summary>
    public bool IsAuthorized(HttpRequest request)
    {
        if (!IsEnabled)
        {
            return true;
        }

        var keys = Volatile.Read(ref _keys);
        var header = request.Headers.Authorization.ToString().AsSpan().Trim();
        if (header.Length > 7 && header[..7].Equals("Bearer ", StringComparison.OrdinalIgnoreCase) && Matches(keys, header[7..].Trim()))
        {
            return true;
        }

        return request.Headers.TryGetValue(AnthropicKeyHeader, out var anthropic)
            && Matches(keys, anthropic.ToString().AsSpan().Trim());
    }

    private static bool Matches(byte[][] keys, ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[MaxKeyBytes];
        if (Encoding.UTF8.GetMaxByteCount(presented.Length) > MaxKeyBytes && Encoding.UTF8.GetByteCount(presented) > MaxKeyBytes)
        {
            return false;
        }

        var length = Encoding.UTF8.GetBytes(presented, bytes);
        var candidate = bytes[..length];

        // Every key is compared, whichever matches, so the time taken says nothing about which.
        var match = false;
        foreach (var key in keys)
        {
            match |= CryptographicOperations.FixedTimeEquals(candidate, key);
        }

        return match;
    }

    private static byte[][] Build(IEnumerable<string> fixedKeys, IEnumerable<string> fileKeys) =>
        fixedKeys.Concat(fileKeys).Select(static key => Encoding.UTF8.GetBytes(key)).ToArray();

    /// <summary>One key per line; blank lines and lines starting with '#' are skipped.</summary>
    private static List<string> Parse(string text) =>
        text.Split('\n')
            .Select(static line => line.Trim())
            .Where(static line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ApiKeysReloaded, LogLevel.Information, "API keys re-read from {File}: {Count} keys in force", EventName = "ApiKeysReloaded")]
        public static partial void Reloaded(ILogger logger, string file, int count);

        [LoggerMessage(LogEventIds.ApiKeysReloadFailed, LogLevel.Warning, "API keys file {File} could not be read, the keys in force stay: {Reason}", EventName = "ApiKeysReloadFailed")]
        public static partial void ReloadFailed(ILogger logger, string file, string reason);

        [LoggerMessage(LogEventIds.ApiKeysReloadUnsettled, LogLevel.Warning, "API keys file {File} kept changing for {Seconds} s, the keys in force stay; send SIGHUP again once it is written", EventName = "ApiKeysReloadUnsettled")]
        public static partial void ReloadUnsettled(ILogger logger, string file, double seconds);

        [LoggerMessage(LogEventIds.ApiKeysNone, LogLevel.Warning, "API keys file {File} holds no key and no other key is set: every request will be refused", EventName = "ApiKeysNone")]
        public static partial void NoKeys(ILogger logger, string file);
    }
}
