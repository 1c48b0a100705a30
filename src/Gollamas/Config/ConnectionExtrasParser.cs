using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gollamas.Diagnostics;

namespace Gollamas.Config;

/// <summary>
/// Reads what a connection needs besides its URL: header fields sent with each of its requests
/// (<c>--connection-header</c>, their values read from a variable or a file, never written in
/// the configuration itself) and the CA bundle its HTTPS certificate is checked against
/// (<c>--connection-ca</c>).
/// </summary>
internal static class ConnectionExtrasParser
{
    private const string HeaderForm = "(expected ID_OR_URL=NAME=env:VARIABLE or ID_OR_URL=NAME=file:PATH)";
    private const string CaForm = "(expected ID_OR_URL=PATH)";
    private const string EnvPrefix = "env:";
    private const string FilePrefix = "file:";

    // Fields whose value the proxy decides for each hop or each request: a fixed one would
    // contradict it (framing, the upstream's own Host) or mean nothing (hop-by-hop).
    private static readonly HashSet<string> s_reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Proxy-Connection",
        "TE", "Trailer", "Upgrade", "Expect", "Origin",
    };

    /// <summary>Reads --connection-header and --connection-ca into the connections the routes' step declared.</summary>
    public static void Parse(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var getEnvironmentVariable = draft.Input.GetEnvironmentVariable;
        var headers = new Dictionary<string, List<ConnectionHeader>>(StringComparer.Ordinal);
        foreach (var entry in draft.Input[Settings.ConnectionHeaders])
        {
            if (ParseHeader(entry, draft, getEnvironmentVariable) is var (id, header))
            {
                var list = headers.TryGetValue(id, out var known) ? known : headers[id] = [];
                if (list.Any(h => string.Equals(h.Name, header.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    draft.Errors.Add(new ConfigError(entry.Source, "", $"connection '{id}' already has a {header.Name} header"));
                    continue;
                }

                list.Add(header);
            }
        }

        var trust = new Dictionary<string, ConnectionTrust>(StringComparer.Ordinal);
        foreach (var entry in draft.Input[Settings.ConnectionCas])
        {
            if (ParseCa(entry, draft) is var (id, bundle))
            {
                if (!trust.TryAdd(id, bundle))
                {
                    draft.Errors.Add(new ConfigError(entry.Source, entry.Value, $"connection '{id}' already has a CA bundle ({trust[id].Path})"));
                }
            }
        }

        if (headers.Count == 0 && trust.Count == 0)
        {
            return;
        }

        draft.Options = draft.Options with
        {
            Connections = [.. draft.Options.Connections.Select(connection => connection with
            {
                Headers = headers.TryGetValue(connection.Id, out var list) ? list : connection.Headers,
                Trust = trust.GetValueOrDefault(connection.Id) ?? connection.Trust,
            })],
        };
    }

    // The value of an entry is never echoed in an error: it names where a secret is.
    private static (string Id, ConnectionHeader Header)? ParseHeader(ConfigEntry entry, OptionsDraft draft, Func<string, string?> getEnvironmentVariable)
    {
        var errors = draft.Errors;
        var text = entry.Value.Trim();
        var first = text.IndexOf('=', StringComparison.Ordinal);
        var second = first < 0 ? -1 : text.IndexOf('=', first + 1);
        if (second < 0)
        {
            errors.Add(new ConfigError(entry.Source, "", $"missing '=' {HeaderForm}"));
            return null;
        }

        // Errors show the connection and the field name only: the rest may be a secret written
        // where it does not belong.
        var shown = text[..second].Trim();
        var target = text[..first].Trim();
        var name = text[(first + 1)..second].Trim();
        var source = text[(second + 1)..].Trim();
        if (target.Length == 0 || !RouteParser.TryResolveConnection(entry with { Value = shown }, target, draft.Connections, errors, draft.Notes, out var id))
        {
            if (target.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, shown, $"empty connection id or URL {HeaderForm}"));
            }

            return null;
        }

        if (!IsToken(name))
        {
            errors.Add(new ConfigError(entry.Source, shown, $"'{name}' is not a header field name {HeaderForm}"));
            return null;
        }

        if (s_reserved.Contains(name))
        {
            errors.Add(new ConfigError(entry.Source, shown, $"the proxy sets {name} itself; it cannot be fixed per connection"));
            return null;
        }

        var connection = draft.Options.Connections.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.Ordinal));
        if (connection?.Credentials is not null && string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(new ConfigError(entry.Source, shown, $"connection '{id}' has a user and password in its URL, which are its Authorization already"));
            return null;
        }

        string? value;
        if (source.StartsWith(EnvPrefix, StringComparison.Ordinal))
        {
            var variable = source[EnvPrefix.Length..];
            value = variable.Length == 0 ? null : getEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(value))
            {
                errors.Add(new ConfigError(entry.Source, shown, $"the variable {(variable.Length == 0 ? "name is empty" : $"{variable} is not set or empty")}"));
                return null;
            }
        }
        else if (source.StartsWith(FilePrefix, StringComparison.Ordinal))
        {
            var path = source[FilePrefix.Length..];
            try
            {
                // A secret file usually ends with a line break, which is not part of the value.
                value = File.ReadAllText(path).TrimEnd('\r', '\n');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                errors.Add(new ConfigError(entry.Source, shown, $"cannot read {path} ({FileProblem.Describe(ex, path)})"));
                return null;
            }

            if (value.Length == 0)
            {
                errors.Add(new ConfigError(entry.Source, shown, $"{path} is empty"));
                return null;
            }
        }
        else
        {
            errors.Add(new ConfigError(entry.Source, shown, $"the value must be read from a variable or a file, never written here {HeaderForm}"));
            return null;
        }

        // Field values are visible ASCII, spaces and tabs (RFC 9110 section 5.5); a line break
        // would start another field.
        if (value.Any(static c => c is < ' ' and not '\t' or > '~'))
        {
            errors.Add(new ConfigError(entry.Source, shown, $"the value of {name} holds a control character or one outside ASCII"));
            return null;
        }

        return (id, new ConnectionHeader(name, value.Trim(' ', '\t'), source));
    }

    private static (string Id, ConnectionTrust Trust)? ParseCa(ConfigEntry entry, OptionsDraft draft)
    {
        var errors = draft.Errors;
        var text = entry.Value.Trim();

        // The path may hold '=', a URL does not: the first one separates them.
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == text.Length - 1)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"missing connection or path {CaForm}"));
            return null;
        }

        var target = text[..equals].Trim();
        var path = text[(equals + 1)..].Trim();
        if (!RouteParser.TryResolveConnection(entry, target, draft.Connections, errors, draft.Notes, out var id))
        {
            return null;
        }

        var connection = draft.Options.Connections.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.Ordinal));
        if (connection is not null && !string.Equals(connection.BaseUri.Scheme, Uri.UriSchemeHttps, StringComparison.Ordinal))
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"connection '{id}' is not https: a CA bundle checks only an HTTPS server's certificate"));
            return null;
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, ex is CryptographicException ? $"{path} holds a certificate that cannot be read" : $"cannot read {path} ({FileProblem.Describe(ex, path)})"));
            return null;
        }

        if (certificates.Count == 0)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
            return null;
        }

        return (id, new ConnectionTrust(path, certificates));
    }

    // RFC 9110 section 5.6.2 token characters.
    private static bool IsToken(string name) =>
        name.Length > 0 && name.All(static c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));
}
