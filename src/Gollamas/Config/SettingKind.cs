namespace Gollamas.Config;

/// <summary>How a setting is given, which decides the shape of its flag and how its values add up.</summary>
internal enum SettingKind
{
    /// <summary>One value: the flag, else a variable, else the default (<c>--listen :11434</c>).</summary>
    Scalar,

    /// <summary>
    /// A boolean: the flag alone is true, <c>--flag false</c> turns it off (so an on-by-default
    /// one can be turned off); a variable holds a boolean word.
    /// </summary>
    Switch,

    /// <summary>One comma list, from the flag or else a variable (<c>--origins 'a,b'</c>).</summary>
    List,

    /// <summary>
    /// A repeatable flag whose every value may be a comma list; the flag's values replace the
    /// variable's list, as any flag wins over its variable (<c>--preload a --preload b,c</c>).
    /// </summary>
    Repeatable,

    /// <summary>
    /// Like <see cref="Repeatable"/>, except that a blank item of a flag value is kept for the
    /// parser to reject rather than dropped: <c>--api-key $KEY</c> with KEY unset must stop the
    /// start, not serve without a key.
    /// </summary>
    Secrets,

    /// <summary>
    /// A repeatable singular flag (<c>--proxy</c>) plus a plural flag (<c>--proxies</c>) holding a
    /// comma list, or else the variable; the singular values come first and both add up.
    /// </summary>
    Pairs,
}
