using Microsoft.Extensions.Logging;

namespace Gollamas.Config;

/// <summary>
/// The immutable, already-validated settings everything else consumes. Built only by
/// <see cref="ConfigParser"/>; a value of this type never holds an invalid entry.
/// </summary>
internal sealed record GollamasOptions
{
    /// <summary>Where the proxy listens.</summary>
    public required ListenAddress Listen { get; init; }

    /// <summary>Minimum level of console log lines.</summary>
    public LogLevel MinimumLevel { get; init; } = LogLevel.Information;

    /// <summary>Every upstream Ollama server, in declaration order, each id unique.</summary>
    public required IReadOnlyList<ConnectionConfig> Connections { get; init; }

    /// <summary>Every routed model, in declaration order, each canonical name unique.</summary>
    public required IReadOnlyList<ModelConfig> Models { get; init; }

    /// <summary>Every alias, in declaration order; each target is one of <see cref="Models"/>.</summary>
    public required IReadOnlyList<AliasConfig> Aliases { get; init; }

    /// <summary>Whether aliases appear as entries of the merged model lists.</summary>
    public bool ListAliases { get; init; }

    /// <summary>
    /// CORS origins allowed besides Ollama's default local ones, as OLLAMA_ORIGINS gives them
    /// (exact, or with one <c>*</c> wildcard; <c>*</c> alone allows every origin).
    /// </summary>
    public IReadOnlyList<string> Origins { get; init; } = [];
}

/// <summary>Listen address: <c>Host</c> is empty for every interface; "localhost" means both loopbacks.</summary>
internal sealed record ListenAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// One upstream server. <c>Id</c> is the explicit connection id, or the URL text when the
/// connection was declared implicitly by a <c>--proxy MODEL=URL</c>.
/// </summary>
internal sealed record ConnectionConfig(string Id, Uri BaseUri, bool IsExplicit);

/// <summary>
/// One routed model: the name as the operator configured it, and the ids of the connections
/// that serve it, in declaration order (the first is preferred).
/// </summary>
internal sealed record ModelConfig(string Name, IReadOnlyList<string> ConnectionIds);

/// <summary>An alias and the configured model name it stands for.</summary>
internal sealed record AliasConfig(string Alias, string Model);
