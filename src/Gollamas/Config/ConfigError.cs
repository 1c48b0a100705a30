namespace Gollamas.Config;

/// <summary>One configuration problem: which flag or variable, which value, and why it was rejected.</summary>
internal sealed record ConfigError(string Source, string Value, string Reason)
{
    /// <summary>
    /// One line for stderr, e.g. <c>--proxies "llama3.2": missing '=' (expected MODEL=URL or MODEL=CONNECTION_ID)</c>;
    /// the value is left out when there is none, so a missing setting does not print <c>""</c>.
    /// A URL's user and password print as <c>***</c> (stderr is often collected by a log shipper).
    /// </summary>
    public override string ToString() =>
        Value.Length == 0 ? $"{Source}: {UrlCredentials.Redact(Reason)}" : $"{Source} \"{UrlCredentials.Redact(Value)}\": {UrlCredentials.Redact(Reason)}";
}
