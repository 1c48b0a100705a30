using System.Security.Cryptography;
using System.Text;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gollamas.Security;

/// <summary>
/// The keys a request may present as <c>Authorization: Bearer KEY</c> or <c>x-api-key: KEY</c>: those given on the
/// command line plus those of the keys file, which <see cref="ReloadAsync"/> reads again (on SIGHUP).
/// One instance holds the clients' API keys, another the admin keys: the two never mix.
/// No key configured means no key needed. Keys are compared in constant time; each has a name
/// (<see cref="KeyNames"/>), the only thing about a key that reaches a log line or a metric.
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
    private readonly string _noun;
    private readonly string _namePrefix;
    private NamedKey[] _keys;

    // Under _reloadLock: one reload runs at a time, and one asked for meanwhile reads again after it.
    private readonly Lock _reloadLock = new();
    private Task<string?> _reloading = Task.FromResult<string?>(null);
    private bool _reloadRunning;
    private bool _reloadAgain;

    /// <summary>The clients' API keys (--api-key, --api-keys-file).</summary>
    public ApiKeys(SecurityOptions options, TimeProvider time, ILogger<ApiKeys> logger)
        : this((options ?? throw new ArgumentNullException(nameof(options))).ApiKeys, options.ApiKeysFile, KeyNames.ClientPrefix, "API keys", time, logger)
    {
    }

    /// <param name="keys">The keys given on the command line, each <c>NAME=KEY</c> or bare.</param>
    /// <param name="file">The keys file, or null.</param>
    /// <param name="namePrefix">What a bare key is named after, with its position: <c>key</c> gives key1, key2...</param>
    /// <param name="noun">How the log names them: "API keys", "Admin keys".</param>
    public ApiKeys(IReadOnlyList<string> keys, string? file, string namePrefix, string noun, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _fixed = keys;
        _file = file;
        _time = time;
        _logger = logger;
        _noun = noun;
        _namePrefix = namePrefix;
        _keys = Build(_fixed, _file is null ? [] : Parse(File.ReadAllText(_file)), _namePrefix);
        IsEnabled = _fixed.Count > 0 || _file is not null;
        WarnIfNone(_keys);
    }

    /// <summary>The admin keys (--admin-key, --admin-keys-file): they reach the admin actions, and nothing else unless also given as API keys.</summary>
    public static ApiKeys ForAdmin(SecurityOptions options, TimeProvider time, ILogger<ApiKeys> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ApiKeys(options.AdminKeys, options.AdminKeysFile, KeyNames.AdminPrefix, "Admin keys", time, logger);
    }

    /// <summary>The names of the keys in force, in order (duplicates kept), for the metrics.</summary>
    public IEnumerable<string> Names => Volatile.Read(ref _keys).Select(static key => key.Name);

    /// <summary>Whether a keys file was configured (<see cref="ReloadAsync"/> reads it again).</summary>
    public bool HasFile => _file is not null;

    /// <summary>Whether keys are required (a key list or a keys file was configured).</summary>
    public bool IsEnabled { get; }

    /// <summary>Raised after each read of a reload, as it waits to read again (tests wait on it).</summary>
    public event Action? Settling;

    /// <summary>
    /// Reads the keys file again (SIGHUP); on failure the keys in force stay, with a warning.
    /// Reloads run one at a time: one asked for while another runs reads the file again once
    /// that one is done, so the file as it was at the last request wins and an older read never
    /// replaces a newer one. The task completes when a read begun after this call was applied, with
    /// null, or refused, with why (the sentence the log says).
    /// </summary>
    public Task<string?> ReloadAsync()
    {
        if (_file is null)
        {
            return Task.FromResult<string?>(null);
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

    private async Task<string?> ReloadUntilCurrentAsync(string file)
    {
        // Off the signal's thread, and out of the lock taken by the caller.
        await Task.Yield();
        while (true)
        {
            var problem = await ReloadOnceAsync(file);
            lock (_reloadLock)
            {
                if (!_reloadAgain)
                {
                    _reloadRunning = false;
                    return problem;
                }

                _reloadAgain = false;
            }
        }
    }

    // Null when the keys read are in force; else why the keys in force stay, as the log says it.
    private async Task<string?> ReloadOnceAsync(string file)
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
                    var duration = GoDuration.Format(s_settle * MaxReads);
                    Log.ReloadUnsettled(_logger, _noun, file, duration);
                    return $"{_noun} file {file} kept changing for {duration}, the keys in force stay; reload again once it is written";
                }

                text = again;
            }

            var keys = Build(_fixed, Parse(text), _namePrefix);
            Volatile.Write(ref _keys, keys);
            Log.Reloaded(_logger, _noun, file, keys.Length);
            WarnIfNone(keys);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var reason = FileProblem.Describe(ex, file);
            Log.ReloadFailed(_logger, _noun, file, reason);
            return $"{_noun} file {file} could not be read, the keys in force stay: {reason}";
        }
    }

    private void WarnIfNone(NamedKey[] keys)
    {
        if (keys.Length == 0 && _file is not null)
        {
            Log.NoKeys(_logger, _noun, _file, _namePrefix == KeyNames.AdminPrefix ? "admin action" : "request");
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
    /// and OpenAI's clients) or as <c>x-api-key: KEY</c> (Anthropic's); either one matching is
    /// enough. True when no key is configured.
    /// </summary>
    public bool IsAuthorized(HttpRequest request) => !IsEnabled || Match(request) is not null;

    /// <summary>
    /// The name of the key the request carries (see <see cref="IsAuthorized"/>), or null when it
    /// carries none of these keys (or none is configured).
    /// </summary>
    public string? Match(HttpRequest request)
    {
        if (!IsEnabled)
        {
            return null;
        }

        var keys = Volatile.Read(ref _keys);
        var header = request.Headers.Authorization.ToString().AsSpan().Trim();
        if (header.Length > 7 && header[..7].Equals("Bearer ", StringComparison.OrdinalIgnoreCase) && Find(keys, header[7..].Trim()) is { } bearer)
        {
            return bearer;
        }

        return request.Headers.TryGetValue(AnthropicKeyHeader, out var anthropic)
            ? Find(keys, anthropic.ToString().AsSpan().Trim())
            : null;
    }

    private static string? Find(NamedKey[] keys, ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[MaxKeyBytes];
        if (Encoding.UTF8.GetMaxByteCount(presented.Length) > MaxKeyBytes && Encoding.UTF8.GetByteCount(presented) > MaxKeyBytes)
        {
            return null;
        }

        var length = Encoding.UTF8.GetBytes(presented, bytes);
        var candidate = bytes[..length];

        // Every key is compared, whichever matches, so the time taken says nothing about which.
        string? match = null;
        foreach (var key in keys)
        {
            var equal = CryptographicOperations.FixedTimeEquals(candidate, key.Bytes);
            match = equal && match is null ? key.Name : match;
        }

        return match;
    }

    private static NamedKey[] Build(IReadOnlyList<string> fixedKeys, List<KeyNames.Entry> fileKeys, string prefix)
    {
        var keys = new NamedKey[fixedKeys.Count + fileKeys.Count];
        for (var i = 0; i < fixedKeys.Count; i++)
        {
            var entry = KeyNames.ReadFlag(fixedKeys[i]);
            keys[i] = new NamedKey(entry.Name ?? KeyNames.ByPosition(prefix, i + 1), Encoding.UTF8.GetBytes(entry.Key));
        }

        for (var i = 0; i < fileKeys.Count; i++)
        {
            var position = fixedKeys.Count + i + 1;
            keys[position - 1] = new NamedKey(fileKeys[i].Name ?? KeyNames.ByPosition(prefix, position), Encoding.UTF8.GetBytes(fileKeys[i].Key));
        }

        return keys;
    }

    /// <summary>One key per line, <c>NAME: KEY</c> or a bare key; blank lines and lines starting with '#' are skipped.</summary>
    private static List<KeyNames.Entry> Parse(string text)
    {
        var entries = new List<KeyNames.Entry>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                entries.Add(KeyNames.ReadLine(line));
            }
        }

        return entries;
    }

    // A key and its name: the name is what logs and metrics say, the bytes what is compared.
    private sealed class NamedKey(string name, byte[] bytes)
    {
        public string Name { get; } = name;

        public byte[] Bytes { get; } = bytes;
    }

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ApiKeysReloaded, LogLevel.Information, "{Keys} re-read from {File}: {Count} keys in force", EventName = "ApiKeysReloaded")]
        public static partial void Reloaded(ILogger logger, string keys, string file, int count);

        [LoggerMessage(LogEventIds.ApiKeysReloadFailed, LogLevel.Warning, "{Keys} file {File} could not be read, the keys in force stay: {Reason}", EventName = "ApiKeysReloadFailed")]
        public static partial void ReloadFailed(ILogger logger, string keys, string file, string reason);

        [LoggerMessage(LogEventIds.ApiKeysReloadUnsettled, LogLevel.Warning, "{Keys} file {File} kept changing for {Duration}, the keys in force stay; reload again once it is written", EventName = "ApiKeysReloadUnsettled")]
        public static partial void ReloadUnsettled(ILogger logger, string keys, string file, string duration);

        [LoggerMessage(LogEventIds.ApiKeysNone, LogLevel.Warning, "{Keys} file {File} holds no key and no other key is set: every {Refused} will be refused", EventName = "ApiKeysNone")]
        public static partial void NoKeys(ILogger logger, string keys, string file, string refused);
    }
}
