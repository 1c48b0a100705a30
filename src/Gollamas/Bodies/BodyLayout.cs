namespace Gollamas.Bodies;

/// <summary>
/// Where Go's decoder takes <c>keep_alive</c> and <c>options.num_ctx</c> from in a request body,
/// and where members can be added, as <see cref="JsonBodyScan"/> found them in its one reading.
/// <see cref="RequestDefaultsSplice"/> plans its splices from this alone, without reading the body again.
/// </summary>
/// <param name="IsObject">Whether the body's first value is a complete, valid JSON object; nothing else here means anything otherwise.</param>
/// <param name="TopClose">The top-level object's closing brace.</param>
/// <param name="TopHasMembers">Whether the top-level object has a member.</param>
/// <param name="KeepAlive">The last <c>keep_alive</c> value; absent when none or the last is null.</param>
/// <param name="Options">What the last <c>options</c> value is.</param>
/// <param name="OptionsClose">The closing brace of the last <c>options</c> object.</param>
/// <param name="OptionsEmpty">Whether the last <c>options</c> object has no member.</param>
/// <param name="NumCtx">The last <c>num_ctx</c> value in the options map; absent when none, null, or reset by an options null.</param>
internal readonly record struct BodyLayout(
    bool IsObject,
    int TopClose,
    bool TopHasMembers,
    BodyValue KeepAlive,
    OptionsKind Options,
    int OptionsClose,
    bool OptionsEmpty,
    BodyValue NumCtx);
