namespace Gollamas.Security;

/// <summary>
/// How a key is named: <c>NAME=KEY</c> (a flag, a variable's item, the file's <c>api_keys</c>)
/// or a <c>NAME: KEY</c> line of a keys file; a bare key is named by its place among all the keys
/// of its kind, the command line's first, then the file's: <c>key1</c>, <c>key2</c>... for API
/// keys, <c>admin1</c>, <c>admin2</c>... for admin keys. The name is what the access log and
/// the metrics say; the key itself goes nowhere.
/// </summary>
/// <remarks>
/// A name is a letter, then up to 63 letters, digits, '.', '_' or '-'. <c>NAME=KEY</c> is read as
/// named only when KEY does not start with '=': a base64 key ends in its '=' padding
/// (<c>c2stb25l=</c>, <c>abc==</c>), so it is never split. Names need not be unique: keys of one
/// name add up in the metrics (a team's keys, an old and a new one while it is rotated).
/// </remarks>
internal static class KeyNames
{
    /// <summary>What bare API keys are named after.</summary>
    public const string ClientPrefix = "key";

    /// <summary>What bare admin keys are named after.</summary>
    public const string AdminPrefix = "admin";

    /// <summary>A key and its name, null when it was given bare.</summary>
    public sealed record Entry(string? Name, string Key);

    /// <summary>The name of a bare key at <paramref name="position"/> (from 1).</summary>
    public static string ByPosition(string prefix, int position) =>
        prefix + position.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A key as given on the command line or in a variable: <c>NAME=KEY</c> or a bare key.</summary>
    public static Entry ReadFlag(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals > 0 && equals < text.Length - 1 && text[equals + 1] != '=' && IsName(text.AsSpan(0, equals)))
        {
            return new Entry(text[..equals], text[(equals + 1)..]);
        }

        return new Entry(null, text);
    }

    /// <summary>A line of a keys file, trimmed: <c>NAME: KEY</c>, <c>NAME=KEY</c> or a bare key.</summary>
    public static Entry ReadLine(string line)
    {
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && colon < line.Length - 1 && char.IsWhiteSpace(line[colon + 1]) && IsName(line.AsSpan(0, colon)))
        {
            var key = line[(colon + 1)..].Trim();
            if (key.Length > 0)
            {
                return new Entry(line[..colon], key);
            }
        }

        return ReadFlag(line);
    }

    /// <summary>Whether <paramref name="text"/> is a key name: a letter, then letters, digits, '.', '_' or '-'.</summary>
    public static bool IsName(ReadOnlySpan<char> text) => Config.KeyPolicyParser.IsName(text);
}
