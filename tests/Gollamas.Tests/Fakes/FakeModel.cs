using System.Security.Cryptography;
using System.Text;

namespace Gollamas.Tests.Fakes;

/// <summary>
/// A model a <see cref="FakeOllamaServer"/> lists in <c>/api/tags</c> (via <see cref="FakeOllamaServer.Models"/>)
/// or <c>/api/ps</c> (via <see cref="FakeOllamaServer.Running"/>). Defaults mirror a real llama3.2 entry;
/// the digest is derived from the name so two models never share one by accident.
/// </summary>
public sealed record FakeModel(string Name)
{
    public const string DefaultModifiedAt = "2025-05-04T17:37:44.706015396-07:00";
    public const string DefaultExpiresAt = "2025-06-04T14:38:31.83753-07:00";

    /// <summary>The <c>model</c> field; Ollama sets it equal to <c>name</c>.</summary>
    public string Model { get; init; } = Name;

    /// <summary>RFC 3339 text written verbatim into <c>modified_at</c>.</summary>
    public string ModifiedAt { get; init; } = DefaultModifiedAt;

    public long Size { get; init; } = 2019393189;

    /// <summary>64 hex characters without the <c>sha256:</c> prefix, as <c>/api/tags</c> shows it.</summary>
    public string Digest { get; init; } = DigestOf(Name);

    public string Family { get; init; } = "llama";

    public IReadOnlyList<string> Families { get; init; } = ["llama"];

    public string ParameterSize { get; init; } = "3.2B";

    public string QuantizationLevel { get; init; } = "Q4_K_M";

    /// <summary>RFC 3339 text written verbatim into <c>expires_at</c> (ps only).</summary>
    public string ExpiresAt { get; init; } = DefaultExpiresAt;

    /// <summary><c>size_vram</c> (ps only); <see langword="null"/> means fully on the GPU (= <see cref="Size"/>).</summary>
    public long? SizeVram { get; init; }

    /// <summary><c>context_length</c> (ps only).</summary>
    public int ContextLength { get; init; } = 4096;

    private static string DigestOf(string name) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name ?? string.Empty)));
}
