using System.Text;

namespace Gollamas.Bodies;

/// <summary>
/// What the proxy sets in the body of a model-loading request (generate, chat, embed,
/// embeddings) for one model: <c>keep_alive</c> at the top level and <c>num_ctx</c> inside
/// <c>options</c>, each either when the request has none or always (forced). Immutable and
/// shared by every request for the model; the JSON fragments spliced into bodies are encoded
/// once here, so a rewrite allocates nothing.
/// </summary>
internal sealed class RequestDefaults
{
    /// <summary>Nothing set: bodies are forwarded as the client sent them.</summary>
    public static readonly RequestDefaults None = new(null, null, forceKeepAlive: false, null, forceNumCtx: false);

    /// <param name="keepAliveJson">The <c>keep_alive</c> value as a JSON token (<c>-1</c>, <c>300</c>, <c>0.25</c>); null for none.</param>
    /// <param name="keepAliveText">The same value as the operator wrote it, for logs.</param>
    /// <param name="forceKeepAlive">Replace the client's value too, not only set it when absent.</param>
    /// <param name="numCtx">The <c>options.num_ctx</c> value; null for none.</param>
    /// <param name="forceNumCtx">Replace the client's value too, not only set it when absent.</param>
    public RequestDefaults(string? keepAliveJson, string? keepAliveText, bool forceKeepAlive, int? numCtx, bool forceNumCtx)
    {
        KeepAliveText = keepAliveJson is null ? null : keepAliveText ?? keepAliveJson;
        ForceKeepAlive = keepAliveJson is not null && forceKeepAlive;
        NumCtx = numCtx;
        ForceNumCtx = numCtx is not null && forceNumCtx;
        if (keepAliveJson is not null)
        {
            KeepAliveValue = Encoding.UTF8.GetBytes(keepAliveJson);
            KeepAliveMember = Encoding.UTF8.GetBytes(",\"keep_alive\":" + keepAliveJson);
        }

        if (numCtx is { } n)
        {
            var value = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            NumCtxValue = Encoding.UTF8.GetBytes(value);
            NumCtxMember = Encoding.UTF8.GetBytes(",\"num_ctx\":" + value);
            OptionsMember = Encoding.UTF8.GetBytes(",\"options\":{\"num_ctx\":" + value + "}");
        }
    }

    /// <summary>Whether nothing is set, so bodies need no scan.</summary>
    public bool IsEmpty => KeepAliveValue.IsEmpty && NumCtx is null;

    /// <summary>The keep-alive as configured (e.g. <c>10m</c>, <c>-1</c>), for logs; null when none.</summary>
    public string? KeepAliveText { get; }

    public bool ForceKeepAlive { get; }

    public int? NumCtx { get; }

    public bool ForceNumCtx { get; }

    /// <summary>The <c>keep_alive</c> JSON value alone (<c>-1</c>); empty when none.</summary>
    public ReadOnlyMemory<byte> KeepAliveValue { get; }

    /// <summary><c>,"keep_alive":V</c>: a member to append to a non-empty object (drop the comma for an empty one).</summary>
    public ReadOnlyMemory<byte> KeepAliveMember { get; }

    /// <summary>The <c>num_ctx</c> JSON value alone (<c>8192</c>); empty when none.</summary>
    public ReadOnlyMemory<byte> NumCtxValue { get; }

    /// <summary><c>,"num_ctx":N</c>: a member to append to an existing <c>options</c> object.</summary>
    public ReadOnlyMemory<byte> NumCtxMember { get; }

    /// <summary><c>,"options":{"num_ctx":N}</c>: a member to append to the top-level object when it has no usable <c>options</c>.</summary>
    public ReadOnlyMemory<byte> OptionsMember { get; }
}
