using System.Security.Cryptography;
using System.Text;
using Gollamas.Config;
using Gollamas.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gollamas.Security;

/// <summary>
/// The API keys clients must present as <c>Authorization: Bearer KEY</c> or <c>x-api-key: KEY</c>: those given on the
/// command line plus those of the keys file, which <see cref="Reload"/> reads again (on SIGHUP).
/// No key configured means no key needed. Keys are compared in constant time.
/// </summary>
internal sealed partial class ApiKeys
{
    private const int MaxKeyBytes = 1024;

    private readonly IReadOnlyList<string> _fixed;
    private readonly string? _file;
    private readonly ILogger _logger;
    private byte[][] _keys;

    public ApiKeys(SecurityOptions options, ILogger<ApiKeys> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _fixed = options.ApiKeys;
        _file = options.ApiKeysFile;
        _logger = logger;
        _keys = Build(_fixed, _file is null ? [] : ReadFile(_file));
        IsEnabled = _fixed.Count > 0 || _file is not null;
    }

    /// <summary>Whether keys are required (a key list or a keys file was configured).</summary>
    public bool IsEnabled { get; }

    /// <summary>Reads the keys file again; on failure the keys in force stay, with a warning.</summary>
    public void Reload()
    {
        if (_file is null)
        {
            return;
        }

        try
        {
            var keys = Build(_fixed, ReadFile(_file));
            Volatile.Write(ref _keys, keys);
            Log.Reloaded(_logger, _file, keys.Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.ReloadFailed(_logger, _file, ex.Message);
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
    private static List<string> ReadFile(string path) =>
        File.ReadAllLines(path)
            .Select(static line => line.Trim())
            .Where(static line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();

    private static partial class Log
    {
        [LoggerMessage(LogEventIds.ApiKeysReloaded, LogLevel.Information, "API keys re-read from {File}: {Count} keys in force", EventName = "ApiKeysReloaded")]
        public static partial void Reloaded(ILogger logger, string file, int count);

        [LoggerMessage(LogEventIds.ApiKeysReloadFailed, LogLevel.Warning, "API keys file {File} could not be read, the keys in force stay: {Reason}", EventName = "ApiKeysReloadFailed")]
        public static partial void ReloadFailed(ILogger logger, string file, string reason);
    }
}
