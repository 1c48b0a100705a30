namespace Gollamas.Bodies;

/// <summary>
/// Where Go's decoder takes each watched field (<see cref="WatchedFields"/>) from in a request
/// body, where the members of stripped fields are, and where members can be added, as
/// <see cref="JsonBodyScan"/> found them in its one reading. <see cref="RequestDefaultsSplice"/>
/// plans its splices from this alone, without reading the body again.
/// </summary>
/// <remarks>
/// The per-field arrays are the scanner's, pooled: a layout is read while its scanner is not yet
/// disposed (it is the request's, and lives as long as the request).
/// </remarks>
internal readonly struct BodyLayout
{
    /// <summary>The most members of stripped fields one body may have; past it the body is refused.</summary>
    public const int MaxMembers = 32;

    private readonly WatchedFields? _watched;
    private readonly FieldState[]? _fields;
    private readonly BodyMember[]? _members;
    private readonly int _memberCount;

    /// <param name="isObject">Whether the body's first value is a complete, valid JSON object; nothing else here means anything otherwise.</param>
    /// <param name="topClose">The top-level object's closing brace.</param>
    /// <param name="topMembers">How many members the top-level object has.</param>
    /// <param name="options">What the last <c>options</c> value is.</param>
    /// <param name="optionsOpen">The opening brace of the last <c>options</c> object.</param>
    /// <param name="optionsClose">The closing brace of the last <c>options</c> object.</param>
    /// <param name="optionsMembers">How many members the last <c>options</c> object has.</param>
    /// <param name="watched">The fields recorded.</param>
    /// <param name="fields">One state per watched field (null when none is watched).</param>
    /// <param name="members">The members of stripped fields, in body order.</param>
    /// <param name="memberCount">How many of <paramref name="members"/> are set.</param>
    public BodyLayout(
        bool isObject,
        int topClose,
        int topMembers,
        OptionsKind options,
        int optionsOpen,
        int optionsClose,
        int optionsMembers,
        WatchedFields watched,
        FieldState[]? fields,
        BodyMember[]? members,
        int memberCount)
    {
        IsObject = isObject;
        TopClose = topClose;
        TopMembers = topMembers;
        Options = options;
        OptionsOpen = optionsOpen;
        OptionsClose = optionsClose;
        OptionsMembers = optionsMembers;
        _watched = watched;
        _fields = fields;
        _members = members;
        _memberCount = memberCount;
    }

    public bool IsObject { get; }

    public int TopClose { get; }

    public int TopMembers { get; }

    /// <summary>Whether the top-level object has a member.</summary>
    public bool TopHasMembers => TopMembers > 0;

    public OptionsKind Options { get; }

    public int OptionsOpen { get; }

    public int OptionsClose { get; }

    public int OptionsMembers { get; }

    /// <summary>Whether the last <c>options</c> object has no member.</summary>
    public bool OptionsEmpty => OptionsMembers == 0;

    /// <summary>The fields recorded.</summary>
    public WatchedFields Watched => _watched ?? WatchedFields.None;

    /// <summary>The members of stripped fields, in body order.</summary>
    public ReadOnlySpan<BodyMember> Members => _members.AsSpan(0, _memberCount);

    /// <summary>The last <c>keep_alive</c> value, when it is watched; absent when none or the last is null.</summary>
    public BodyValue KeepAlive => Find(false, "keep_alive"u8);

    /// <summary>The last <c>num_ctx</c> value in the options map, when it is watched; absent when none, null, or reset by an options null.</summary>
    public BodyValue NumCtx => Find(true, "num_ctx"u8);

    /// <summary>The value Go reads for watched field <paramref name="index"/>.</summary>
    public BodyValue Value(int index) => _fields is null ? default : _fields[index].Value;

    /// <summary>Whether watched field <paramref name="index"/> has more members than can be stripped.</summary>
    public bool HasTooManyMembers(int index) => _fields is not null && _fields[index].TooManyMembers;

    private BodyValue Find(bool option, ReadOnlySpan<byte> name)
    {
        var index = option ? Watched.MatchOption(name) : Watched.MatchTopLevel(name);
        return index < 0 ? default : Value(index);
    }
}
