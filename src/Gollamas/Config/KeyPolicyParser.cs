using System.Globalization;

namespace Gollamas.Config;

/// <summary>
/// Reads --key-models, --key-concurrency and --key-rate together into one
/// <see cref="KeyPolicy"/> per key name: what a named key may use. Each entry is
/// <c>NAME=VALUE</c>, NAME a key's name (<c>team-a</c>, or <c>key2</c> for a bare key).
/// </summary>
internal static class KeyPolicyParser
{
    /// <summary>The longest a key's name may be.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The combining step of the three rows, run at the last one's.</summary>
    public static void Parse(OptionsDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var byName = new Dictionary<string, KeyPolicy>(StringComparer.Ordinal);
        var order = new List<string>();
        KeyPolicy For(string name)
        {
            if (!byName.TryGetValue(name, out var policy))
            {
                byName[name] = policy = new KeyPolicy(name);
                order.Add(name);
            }

            return policy;
        }

        foreach (var entry in draft.Input[Settings.KeyModels])
        {
            if (!Split(entry, "NAME=MODEL", draft.Errors, out var name, out var value))
            {
                continue;
            }

            if (!ModelName.TryParse(value, out _))
            {
                draft.Errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid model name '{value}'"));
                continue;
            }

            var policy = For(name);
            byName[name] = policy with { Models = [.. policy.Models ?? [], value] };
        }

        foreach (var entry in draft.Input[Settings.KeyConcurrency])
        {
            if (Number(entry, "requests at once", draft.Errors, out var name, out var number))
            {
                byName[name] = For(name) with { Concurrency = number };
            }
        }

        foreach (var entry in draft.Input[Settings.KeyRate])
        {
            if (Number(entry, "requests per minute", draft.Errors, out var name, out var number))
            {
                byName[name] = For(name) with { PerMinute = number };
            }
        }

        var policies = new KeyPolicy[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            policies[i] = byName[order[i]];
        }

        draft.Options = draft.Options with { Security = draft.Options.Security with { KeyPolicies = policies } };
    }

    /// <summary>Whether <paramref name="text"/> is a key name: a letter, then up to 63 letters, digits, '.', '_' or '-'.</summary>
    public static bool IsName(ReadOnlySpan<char> text)
    {
        if (text.Length is 0 or > MaxNameLength || !char.IsAsciiLetter(text[0]))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Split(ConfigEntry entry, string form, List<ConfigError> errors, out string name, out string value)
    {
        var text = entry.Value.Trim();
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        name = value = "";
        if (equals <= 0 || equals == text.Length - 1)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"expected {form}"));
            return false;
        }

        name = text[..equals].Trim();
        value = text[(equals + 1)..].Trim();
        if (!IsName(name))
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid key name '{name}' (a letter, then letters, digits, '.', '_' or '-')"));
            return false;
        }

        return true;
    }

    private static bool Number(ConfigEntry entry, string what, List<ConfigError> errors, out string name, out int number)
    {
        number = 0;
        if (!Split(entry, "NAME=N", errors, out name, out var value))
        {
            return false;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number < 1)
        {
            errors.Add(new ConfigError(entry.Source, entry.Value, $"invalid number of {what} '{value}' (expected a whole number of at least 1)"));
            return false;
        }

        return true;
    }
}
