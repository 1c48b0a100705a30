using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Gollamas.Bodies;

/// <summary>
/// One reading of a JSON request body, fed in order in chunks of any size, that finds what
/// routing needs (the model, exactly as Ollama's Go decoder reads it: see <see cref="ModelPeek"/>)
/// and what a rewrite needs (the <see cref="BodyLayout"/> of the <see cref="WatchedFields"/>)
/// together, in memory bounded by a fixed window whatever the body. Everything else is skipped,
/// never materialised.
/// </summary>
/// <remarks>
/// <para>
/// A <see cref="Utf8JsonReader"/> reads each chunk in place with <c>isFinalBlock: false</c>, its
/// <see cref="JsonReaderState"/> carried over, so a body fed as one chunk is read with no copy.
/// Only what the reader could not finish (a token cut by the end of a chunk, with the separator
/// and white space before it) is copied into a pooled window of fixed size, read again once
/// more bytes follow.
/// </para>
/// <para>
/// When the window fills without the reader finishing a token, runs of white space in it are
/// cut to one space, a long complete key to <c>""</c>, and a string or number longer than the
/// window (a base64 image is one string) is checked by <see cref="LongToken"/> as the bytes go
/// by, the reader then getting <c>""</c> or <c>0</c> in its place. No key the proxy looks for is
/// that long, and every removed byte keeps its meaning to the reader: what Go accepts is exactly
/// what the reader accepts over the whole body. Marks map window indexes back to body offsets,
/// so token positions count from the body's first byte whatever was cut.
/// </para>
/// </remarks>
internal sealed class JsonBodyScan : IDisposable
{
    /// <summary>The window's size unless a test asks for another: a 200 MB body is read in 64 KiB.</summary>
    public const int DefaultWindowSize = 64 * 1024;

    /// <summary>Smallest window: it must hold every key the proxy looks for (<see cref="LongestKeyToken"/>), and the few bytes before a token.</summary>
    public const int MinWindowSize = 256;

    /// <summary>Raw bytes of the longest model value worth decoding: a name char is at most 6 (a \uXXXX escape).</summary>
    private const int MaxRawName = ModelPeek.MaxNameChars * 6;

    /// <summary>A captured model or name token: its quotes and at most <see cref="MaxRawName"/> bytes.</summary>
    private const int CaptureBytes = MaxRawName + 2;

    private const int ModelCapture = 0;
    private const int NameCapture = CaptureBytes;
    private const int LongCapture = 2 * CaptureBytes;

    /// <summary>A complete key longer than this (quotes included) cannot match: it may give way to <c>""</c>.</summary>
    internal const int LongestKeyToken = BodyKeys.MaxEscapedKeyBytes + 2;


    private bool _acceptName;
    private readonly int _windowSize;
    private JsonReaderState _readerState = new(ModelPeek.ReaderOptions);

    // Bytes fed but not yet read; _marks map their indexes to body offsets.
    private byte[]? _window;
    private int _windowLength;
    private MarkList _marks;
    private int _markCount;

    // The window is read again once it holds this many bytes (or is full): a token arriving a
    // byte at a time is then re-read a logarithmic number of times, not once per byte.
    private int _readAgainAt;

    private LongToken _long;
    private int _standInStart = -1;
    private int _standInLength;

    // Body offset of the next byte Feed receives.
    private int _fed;

    private byte[]? _captures;

    // The whole body is in one span for the scan's life: the model is decoded from it, not from a copy.
    private bool _whole;

    // TrySkip once found a value running past the bytes at hand: reading token by token from then on
    // costs nothing more than the reader's own failed try did.
    private bool _skipFailed;
    private bool _sawContent;
    private Phase _phase;
    private string? _detail;

    private BodyKey _key;
    private int _keyField;
    private bool _modelNotAString;
    private Candidate _model;
    private Candidate _name;

    private bool _inOptions;
    private int _optionField = -1;
    private int _pendingField;
    private int _pendingStart;
    private int _pendingDepth;

    private int _topClose;
    private int _topMembers;
    private OptionsKind _options;
    private int _optionsOpen;
    private int _optionsClose;
    private int _optionsMembers;

    // The fields the rules of the configuration name, and what was found of each (pooled).
    private WatchedFields _watched = WatchedFields.None;
    private FieldState[]? _fields;

    // Whether a watched field is stripped: then every member of one is recorded, with what a
    // clean cut needs (the value end before it, the key after it) at the top level and in the
    // options object being read. Member indexes here are one more than in _members; 0 is none.
    private bool _tracking;
    private BodyMember[]? _members;
    private int _memberCount;
    private int _topValueEnd;
    private int _topAwaitingValue;
    private int _topAwaitingKey;
    private int _optionValueEnd;
    private int _optionAwaitingValue;
    private int _optionAwaitingKey;

    // One scanner per thread is kept between requests (see Rent): a small body's scan then
    // allocates nothing. Each request takes it whole and gives it back reset. A request often
    // ends on another thread than it began on, so a thread that already holds one leaves the
    // one it gives back in a spare shared by all, where a thread without one looks next.
    [ThreadStatic]
    private static JsonBodyScan? t_spare;
    private static JsonBodyScan? s_sharedSpare;

    // Whether Dispose gives this scanner back as its thread's spare.
    private bool _rented;

    /// <param name="acceptName">Whether the deprecated <c>name</c> key stands in for an absent or empty <c>model</c> (pull, show).</param>
    public JsonBodyScan(bool acceptName)
        : this(acceptName, DefaultWindowSize)
    {
    }

    /// <param name="acceptName">Whether the deprecated <c>name</c> key stands in for an absent or empty <c>model</c> (pull, show).</param>
    /// <param name="windowSize">The most body bytes kept at once, at least <see cref="MinWindowSize"/>.</param>
    public JsonBodyScan(bool acceptName, int windowSize)
        : this(acceptName, windowSize, WatchedFields.None)
    {
    }

    /// <param name="acceptName">Whether the deprecated <c>name</c> key stands in for an absent or empty <c>model</c> (pull, show).</param>
    /// <param name="windowSize">The most body bytes kept at once, at least <see cref="MinWindowSize"/>.</param>
    /// <param name="watched">The fields whose values (and, when stripped, members) the <see cref="Layout"/> records.</param>
    public JsonBodyScan(bool acceptName, int windowSize, WatchedFields watched)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, MinWindowSize);
        _acceptName = acceptName;
        _windowSize = windowSize;
        Watch(watched);
    }

    /// <summary>
    /// A scanner with the default window for one body: this thread's spare when it has one (as new,
    /// every field reset), else a new one. <see cref="Dispose"/> gives it back, so dispose it exactly
    /// once and touch it no more after that: another request may have it by then.
    /// </summary>
    /// <param name="acceptName">Whether the deprecated <c>name</c> key stands in for an absent or empty <c>model</c> (pull, show).</param>
    public static JsonBodyScan Rent(bool acceptName) => Rent(acceptName, WatchedFields.None);

    /// <summary>
    /// <see cref="Rent(bool)"/>, recording the fields of <paramref name="watched"/> in the
    /// <see cref="Layout"/>. With none, nothing more is held or done than without.
    /// </summary>
    /// <param name="acceptName">Whether the deprecated <c>name</c> key stands in for an absent or empty <c>model</c> (pull, show).</param>
    /// <param name="watched">The fields the rules of the request's configuration name.</param>
    public static JsonBodyScan Rent(bool acceptName, WatchedFields watched)
    {
        var scan = t_spare;
        if (scan is not null)
        {
            t_spare = null;
        }
        else
        {
            scan = s_sharedSpare is null ? null : Interlocked.Exchange(ref s_sharedSpare, null);
        }

        if (scan is null)
        {
            scan = new JsonBodyScan(acceptName);
        }
        else
        {
            scan._acceptName = acceptName;
        }

        scan._rented = true;
        scan.Watch(watched);
        return scan;
    }

    private enum Phase
    {
        /// <summary>Before the first token.</summary>
        Start,

        /// <summary>Inside the top-level object.</summary>
        InObject,

        /// <summary>Inside a first value that is an array: read to its end, only to check its syntax.</summary>
        InOtherValue,

        /// <summary>The top-level object was read to its closing brace.</summary>
        Object,

        /// <summary>The first value is valid JSON but not an object.</summary>
        NotAnObject,

        /// <summary>The body is not valid JSON.</summary>
        Invalid,
    }

    /// <summary>
    /// Where Go takes the watched fields from; meaningful once <see cref="Complete"/> has returned,
    /// and until this scanner is disposed (the layout reads its pooled arrays).
    /// </summary>
    public BodyLayout Layout => new(
        _phase == Phase.Object, _topClose, _topMembers, _options, _optionsOpen, _optionsClose, _optionsMembers, _watched, _fields, _members, _memberCount);

    /// <summary>Bytes asked of the pool for the model and name captures (the window aside).</summary>
    internal const int CapturePoolBytes = 3 * CaptureBytes;

    /// <summary>Bytes of pooled memory held now (window and captures), whatever the body's size: for tests.</summary>
    internal int RetainedBytes => (_window?.Length ?? 0) + (_captures?.Length ?? 0);

    private bool IsDone => _phase >= Phase.Object;

    /// <summary>Reads the next bytes of the body. Bytes after the first JSON value are ignored, as Go's decoder ignores them.</summary>
    public void Feed(ReadOnlySpan<byte> chunk)
    {
        var chunkStart = _fed;
        _fed += chunk.Length;
        if (IsDone || chunk.IsEmpty)
        {
            return;
        }

        _sawContent |= chunk.IndexOfAnyExcept(" \t\r\n"u8) >= 0;
        if (_windowLength == 0 && _long.Kind == LongTokenKind.None)
        {
            _markCount = 0;
            AddMark(0, chunkStart);
            var consumed = Read(chunk, isFinalBlock: false);
            if (IsDone || consumed == chunk.Length)
            {
                return;
            }

            // The reader has just failed on these bytes: read them again only once as many more are there.
            var rest = chunk[consumed..];
            _readAgainAt = 2 * Math.Min(rest.Length, _windowSize / 2);
            Append(rest, chunkStart + consumed);
            return;
        }

        Append(chunk, chunkStart);
    }

    /// <summary>
    /// Ends the body and gives the model it names. <paramref name="nameBuffer"/> receives the
    /// unescaped name and must hold <see cref="ModelPeek.MaxNameChars"/> chars.
    /// </summary>
    public ModelPeekResult Complete(Span<char> nameBuffer) => Complete(nameBuffer, default);

    /// <summary>
    /// <see cref="Feed"/> and <see cref="Complete(Span{char})"/> for a body that is whole in
    /// memory: the same reading, with the model decoded from <paramref name="body"/> itself.
    /// </summary>
    internal ModelPeekResult ReadWhole(ReadOnlySpan<byte> body, Span<char> nameBuffer)
    {
        _whole = true;
        Feed(body);
        return Complete(nameBuffer, body);
    }

    /// <summary>The <see cref="Layout"/> of a body that is whole in memory, the model not decoded.</summary>
    internal BodyLayout ReadLayout(ReadOnlySpan<byte> body)
    {
        _whole = true;
        Feed(body);
        End();
        return Layout;
    }

    private ModelPeekResult Complete(Span<char> nameBuffer, ReadOnlySpan<byte> wholeBody)
    {
        if (!_sawContent)
        {
            return ModelPeekResult.Fail(PeekStatus.EmptyBody);
        }

        End();

        switch (_phase)
        {
            case Phase.Invalid:
                return ModelPeekResult.Fail(PeekStatus.InvalidJson, _detail);
            case Phase.NotAnObject:
                return ModelPeekResult.Fail(PeekStatus.NotAnObject);
        }

        if (_modelNotAString)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelNotAString, "model");
        }

        var (chosen, capture) = _model.RawLength > 0 ? (_model, ModelCapture) : (_name, NameCapture);
        if (chosen.RawLength == 0)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelMissing);
        }

        if (chosen.RawLength > MaxRawName)
        {
            return ModelPeekResult.Fail(PeekStatus.ModelTooLong);
        }

        var token = _whole ? wholeBody.Slice(chosen.TokenStart, chosen.TokenLength) : _captures.AsSpan(capture, chosen.TokenLength);
        return ModelPeek.Decode(token, chosen.TokenStart, nameBuffer);
    }

    /// <summary>Returns the pooled buffers; a rented scanner (<see cref="Rent"/>) becomes its thread's spare, or the shared one, reset.</summary>
    public void Dispose()
    {
        if (_window is { } window)
        {
            _window = null;
            ArrayPool<byte>.Shared.Return(window);
        }

        if (_captures is { } captures)
        {
            _captures = null;
            ArrayPool<byte>.Shared.Return(captures);
        }

        if (_fields is { } fields)
        {
            _fields = null;
            ArrayPool<FieldState>.Shared.Return(fields);
        }

        if (_members is { } members)
        {
            _members = null;
            ArrayPool<BodyMember>.Shared.Return(members);
        }

        if (_rented)
        {
            _rented = false;
            Reset();
            if (t_spare is null)
            {
                t_spare = this;
            }
            else
            {
                Volatile.Write(ref s_sharedSpare, this);
            }
        }
    }

    /// <summary>Every field as a new scanner has it (the pooled buffers are already returned).</summary>
    private void Reset()
    {
        _readerState = new(ModelPeek.ReaderOptions);
        _windowLength = 0;
        _marks = default;
        _markCount = 0;
        _readAgainAt = 0;
        _long = default;
        _standInStart = -1;
        _standInLength = 0;
        _fed = 0;
        _whole = false;
        _skipFailed = false;
        _sawContent = false;
        _phase = default;
        _detail = null;
        _key = default;
        _keyField = 0;
        _modelNotAString = false;
        _model = default;
        _name = default;
        _inOptions = false;
        _optionField = -1;
        _pendingField = 0;
        _pendingStart = 0;
        _pendingDepth = 0;
        _topClose = 0;
        _topMembers = 0;
        _options = default;
        _optionsOpen = 0;
        _optionsClose = 0;
        _optionsMembers = 0;
        _watched = WatchedFields.None;
        _tracking = false;
        _memberCount = 0;
        _topValueEnd = 0;
        _topAwaitingValue = 0;
        _topAwaitingKey = 0;
        _optionValueEnd = 0;
        _optionAwaitingValue = 0;
        _optionAwaitingKey = 0;
    }

    /// <summary>Records the fields of <paramref name="watched"/> in this scan (a new one, or one just rented).</summary>
    private void Watch(WatchedFields watched)
    {
        _watched = watched;
        _tracking = watched.HasStrips;
        if (watched.Count > 0)
        {
            _fields = ArrayPool<FieldState>.Shared.Rent(watched.Count);
            Array.Clear(_fields, 0, watched.Count);
        }
    }

    private void End()
    {
        if (!IsDone && _sawContent)
        {
            Finish();
        }
    }

    private void Finish()
    {
        // Bytes kept since the last reading may already be wrong whatever follows: read them as
        // more data would have, so that the error is the same as when they came in one chunk.
        if (_windowLength > 0 && _long.Kind == LongTokenKind.None)
        {
            ReadWindow(isFinalBlock: false);
        }

        if (IsDone)
        {
            return;
        }

        if (_long.Kind != LongTokenKind.None)
        {
            if (_long.Kind == LongTokenKind.String || !_long.CanEnd)
            {
                Fail(JsonSyntaxError.UnexpectedEnd, _fed);
                return;
            }

            _long.End();
            PlaceStandIn();
        }

        ReadWindow(isFinalBlock: true);
        if (!IsDone)
        {
            // The reader ran out of bytes with the first value still open.
            Fail(JsonSyntaxError.UnexpectedEnd, _fed);
        }
    }

    /// <summary>Ends the scan: the body is not JSON; <paramref name="offset"/> is where in the body, for the message.</summary>
    private void Fail(string what, int offset)
    {
        _phase = Phase.Invalid;
        _detail = JsonSyntaxError.Detail(what, offset);
    }

    /// <summary>Takes bytes that follow the window's, keeping at most the window's size.</summary>
    private void Append(ReadOnlySpan<byte> input, int inputStart)
    {
        while (!input.IsEmpty && !IsDone)
        {
            if (_long.Kind != LongTokenKind.None)
            {
                var used = ReadLong(input);
                if (used < 0)
                {
                    Fail(_long.IsString ? JsonSyntaxError.InvalidString : JsonSyntaxError.InvalidNumber, _long.Start);
                    return;
                }

                input = input[used..];
                inputStart += used;
                if (_long.Kind == LongTokenKind.None)
                {
                    PlaceStandIn();
                }

                continue;
            }

            _window ??= ArrayPool<byte>.Shared.Rent(_windowSize);
            if (_windowLength == 0)
            {
                _markCount = 0;
            }

            AddMark(_windowLength, inputStart);
            var taken = Math.Min(_windowSize - _windowLength, input.Length);
            input[..taken].CopyTo(_window.AsSpan(_windowLength));
            _windowLength += taken;
            input = input[taken..];
            inputStart += taken;
            if (_windowLength >= _readAgainAt || _windowLength == _windowSize)
            {
                ReadWindow(isFinalBlock: false);
                if (!IsDone && _windowLength == _windowSize)
                {
                    Compact();
                }
            }
        }
    }

    private void ReadWindow(bool isFinalBlock)
    {
        var consumed = Read(_window.AsSpan(0, _windowLength), isFinalBlock);
        if (IsDone)
        {
            _windowLength = 0;
            return;
        }

        _window.AsSpan(consumed, _windowLength - consumed).CopyTo(_window);
        _windowLength -= consumed;
        _readAgainAt = 2 * Math.Min(_windowLength, _windowSize / 2);
        DropMarks(consumed);
    }

    /// <summary>
    /// Makes room in a full window the reader cannot go on with: white-space runs become one
    /// space, a complete key too long to match becomes <c>""</c>, and a cut string or number
    /// leaves for <see cref="LongToken"/>. What the reader left is white space, a separator, a
    /// key waiting for its colon, and a cut token, in that order.
    /// </summary>
    private void Compact()
    {
        var window = _window.AsSpan(0, _windowLength);
        MarkList marks = default;
        var markCount = 0;
        var read = 0;
        var write = 0;
        AddMark(ref marks, ref markCount, 0, Position(0));
        while (read < window.Length)
        {
            var b = window[read];
            int end;
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                end = window[read..].IndexOfAnyExcept(" \t\r\n"u8);
                end = end < 0 ? window.Length : read + end;
                window[write] = (byte)' ';
                write++;
            }
            else if (b == (byte)'"' && StringEnd(window[read..]) is var close && close > 0)
            {
                end = read + close + 1;
                if (end - read > LongestKeyToken)
                {
                    "\"\""u8.CopyTo(window[write..]);
                    write += 2;
                }
                else
                {
                    window[read..end].CopyTo(window[write..]);
                    write += end - read;
                }
            }
            else if (b == (byte)'"' || b == (byte)'-' || char.IsAsciiDigit((char)b))
            {
                // A cut string or number: its bytes so far go to the long-token check.
                _long.Begin(b, Position(read));
                _standInStart = -1;
                var tail = window[read..];
                var used = ReadLong(tail);
                if (used != tail.Length)
                {
                    // The reader checked these bytes already: a long token cannot end or fail in them.
                    throw new InvalidOperationException("the reader left a token it had finished");
                }

                break;
            }
            else
            {
                end = b is (byte)',' or (byte)':' ? read + 1 : window.Length;
                window[read..end].CopyTo(window[write..]);
                write += end - read;
            }

            AddMark(ref marks, ref markCount, write, Position(end));
            read = end;
        }

        if (write == _windowSize)
        {
            throw new InvalidOperationException("the reader left bytes the window cannot make room for");
        }

        _windowLength = write;
        _marks = marks;
        _markCount = markCount;
        _readAgainAt = 0;
    }

    /// <summary>Index of the closing quote of the string <paramref name="text"/> opens, or -1 if it is cut.</summary>
    private static int StringEnd(ReadOnlySpan<byte> text)
    {
        for (var i = 1; i < text.Length; i++)
        {
            if (text[i] == (byte)'\\')
            {
                i++;
            }
            else if (text[i] == (byte)'"')
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Passes bytes to the long token, keeping its first bytes in case it is the model.</summary>
    private int ReadLong(ReadOnlySpan<byte> bytes)
    {
        var offset = _long.Length;
        var used = _long.Read(bytes);
        if (used > 0 && offset < CaptureBytes && !_whole)
        {
            _captures ??= ArrayPool<byte>.Shared.Rent(CapturePoolBytes);
            var kept = Math.Min(used, CaptureBytes - offset);
            bytes[..kept].CopyTo(_captures.AsSpan(LongCapture + offset));
        }

        return used;
    }

    /// <summary>Gives the reader <c>""</c> or <c>0</c> for the long token just read, mapped to its place in the body.</summary>
    private void PlaceStandIn()
    {
        _window ??= ArrayPool<byte>.Shared.Rent(_windowSize);
        var standIn = _long.IsString ? "\"\""u8 : "0"u8;
        if (_windowLength == 0)
        {
            _markCount = 0;
        }

        AddMark(_windowLength, _long.Start);
        standIn.CopyTo(_window.AsSpan(_windowLength));
        _windowLength += standIn.Length;
        AddMark(_windowLength, _long.Start + _long.Length);
        _standInStart = _long.Start;
        _standInLength = _long.Length;
        _readAgainAt = 0;
    }

    /// <summary>Reads the tokens <paramref name="data"/> holds whole; returns how many bytes they took.</summary>
    private int Read(ReadOnlySpan<byte> data, bool isFinalBlock)
    {
        var reader = new Utf8JsonReader(data, isFinalBlock, _readerState);
        try
        {
            while (!IsDone && reader.Read())
            {
                OnToken(ref reader);
            }
        }
        catch (JsonException)
        {
            // A reader told more bytes will come throws only on bytes no continuation can make
            // valid; on the final block, the end of the body can be what is wrong. Its message
            // is a resource key in the published binary: what was wrong is found again here,
            // after the last token it read (the state this read started from, when none).
            var state = new Utf8JsonReader(data, isFinalBlock, _readerState);
            var (index, what) = FindError(ref state, data);
            Fail(what, index < data.Length || !isFinalBlock ? Position(index) : _fed);
            return data.Length;
        }

        _readerState = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    // Reads the tokens before the error again, the OnToken calls aside, to know the last good one.
    private static (int Index, string What) FindError(ref Utf8JsonReader reader, ReadOnlySpan<byte> data)
    {
        var last = reader.TokenType;
        var depth = reader.CurrentDepth;
        var end = 0;
        try
        {
            while (reader.Read())
            {
                last = reader.TokenType;
                depth = reader.CurrentDepth;
                end = (int)reader.BytesConsumed;
            }
        }
        catch (JsonException)
        {
            // Where the first reading failed.
        }

        var (offset, what) = JsonSyntaxError.Find(data[end..], last, depth);
        return (end + offset, what);
    }

    /// <summary>The body offset of byte <paramref name="index"/> of the span being read.</summary>
    private int Position(long index)
    {
        var i = _markCount - 1;
        while (_marks[i].Index > index)
        {
            i--;
        }

        return _marks[i].Position + (int)index - _marks[i].Index;
    }

    private void AddMark(int index, int position) => AddMark(ref _marks, ref _markCount, index, position);

    /// <summary>Maps window index <paramref name="index"/> (and those after it) to body offset <paramref name="position"/>.</summary>
    private static void AddMark(ref MarkList marks, ref int count, int index, int position)
    {
        if (count > 0)
        {
            ref var last = ref marks[count - 1];
            if (last.Position + index - last.Index == position)
            {
                return;
            }

            if (last.Index == index)
            {
                last = new Mark(index, position);
                return;
            }
        }

        if (count == MarkList.Capacity)
        {
            throw new InvalidOperationException("more cuts in the window than it can map");
        }

        marks[count++] = new Mark(index, position);
    }

    /// <summary>Shifts the marks after the reader took the window's first <paramref name="consumed"/> bytes.</summary>
    private void DropMarks(int consumed)
    {
        var first = 0;
        while (first + 1 < _markCount && _marks[first + 1].Index <= consumed)
        {
            first++;
        }

        var count = 0;
        for (var i = first; i < _markCount; i++)
        {
            var mark = _marks[i];
            _marks[count++] = i == first
                ? new Mark(0, mark.Position + consumed - mark.Index)
                : new Mark(mark.Index - consumed, mark.Position);
        }

        _markCount = count;
    }

    private void OnToken(ref Utf8JsonReader reader)
    {
        switch (_phase)
        {
            case Phase.Start:
                _phase = reader.TokenType switch
                {
                    JsonTokenType.StartObject => Phase.InObject,

                    // Go checks the syntax of the whole first value before its type: "[" alone
                    // is "unexpected EOF", not "cannot unmarshal array".
                    JsonTokenType.StartArray => TrySkip(ref reader) ? Phase.NotAnObject : Phase.InOtherValue,
                    _ => Phase.NotAnObject,
                };
                return;
            case Phase.InOtherValue:
                if (reader.CurrentDepth == 0)
                {
                    _phase = Phase.NotAnObject;
                }

                return;
            default:
                OnObjectToken(ref reader);
                return;
        }
    }

    private void OnObjectToken(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        var type = reader.TokenType;
        if (depth == 0)
        {
            // The top-level object's closing brace: the first value is read, the rest is not Go's.
            _topClose = Position(reader.TokenStartIndex);
            _phase = Phase.Object;
            return;
        }

        if (type is JsonTokenType.EndObject or JsonTokenType.EndArray)
        {
            var end = 0;
            if (depth == _pendingDepth)
            {
                var start = _pendingStart;
                end = Position(reader.BytesConsumed);
                SetValue(_pendingField, new BodyValue(start, end - start, default));
                _pendingDepth = 0;
            }

            if (depth == 1)
            {
                if (_inOptions)
                {
                    _optionsClose = Position(reader.TokenStartIndex);
                    _inOptions = false;
                    _optionAwaitingKey = 0;
                }

                if (_tracking)
                {
                    TopValueEnded(end > 0 ? end : Position(reader.BytesConsumed));
                }
            }
            else if (depth == 2 && _inOptions && _tracking)
            {
                OptionValueEnded(end > 0 ? end : Position(reader.BytesConsumed));
            }

            return;
        }

        if (depth == 1)
        {
            if (type == JsonTokenType.PropertyName)
            {
                _key = BodyKeys.Classify(ref reader, _acceptName, _watched, out _keyField);
                if (_tracking)
                {
                    var keyStart = Position(reader.TokenStartIndex);
                    KeyStarted(ref _topAwaitingKey, keyStart);
                    if (_key == BodyKey.Watched && _watched.IsStripped(_keyField))
                    {
                        _topAwaitingValue = AddMember(_keyField, -1, _topMembers > 0 ? _topValueEnd : -1, keyStart);
                    }
                }

                _topMembers++;
            }
            else
            {
                OnTopLevelValue(ref reader);
                if (_tracking && ValueEnded(type, ref reader))
                {
                    TopValueEnded(Position(reader.BytesConsumed));
                }
            }

            return;
        }

        if (depth == 2 && _inOptions)
        {
            if (type == JsonTokenType.PropertyName)
            {
                _optionField = BodyKeys.MatchOption(ref reader, _watched);
                if (_tracking)
                {
                    var keyStart = Position(reader.TokenStartIndex);
                    KeyStarted(ref _optionAwaitingKey, keyStart);
                    if (_optionField >= 0 && _watched.IsStripped(_optionField))
                    {
                        _optionAwaitingValue = AddMember(_optionField, _optionsOpen, _optionsMembers > 0 ? _optionValueEnd : -1, keyStart);
                    }
                }

                _optionsMembers++;
                return;
            }

            if (_optionField >= 0)
            {
                // A null stays in Go's map, and Options.FromMap skips nil values: "not set".
                if (type == JsonTokenType.Null)
                {
                    _fields![_optionField].Value = default;
                }
                else
                {
                    StartValue(ref reader, _optionField, depth);
                }
            }
            else
            {
                TrySkip(ref reader);
            }

            if (_tracking && ValueEnded(type, ref reader))
            {
                OptionValueEnded(Position(reader.BytesConsumed));
            }
        }
    }

    /// <summary>Whether the value whose first token was <paramref name="type"/> is read to its end: a scalar, or a container skipped whole.</summary>
    private static bool ValueEnded(JsonTokenType type, ref Utf8JsonReader reader) =>
        type is not (JsonTokenType.StartObject or JsonTokenType.StartArray) || reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray;

    /// <summary>Records a member of a stripped field; returns its index plus one, or 0 when there are too many to keep.</summary>
    private int AddMember(int field, int objectStart, int previousValueEnd, int keyStart)
    {
        if (_memberCount == BodyLayout.MaxMembers)
        {
            _fields![field].TooManyMembers = true;
            return 0;
        }

        _members ??= ArrayPool<BodyMember>.Shared.Rent(BodyLayout.MaxMembers);
        _members[_memberCount++] = new BodyMember
        {
            Field = field,
            ObjectStart = objectStart,
            PreviousValueEnd = previousValueEnd,
            KeyStart = keyStart,
            ValueEnd = -1,
            NextKeyStart = -1,
        };
        return _memberCount;
    }

    /// <summary>A key at a tracked level: the member recorded before it in the object learns where the next one starts.</summary>
    private void KeyStarted(ref int awaitingKey, int keyStart)
    {
        if (awaitingKey > 0)
        {
            _members![awaitingKey - 1].NextKeyStart = keyStart;
            awaitingKey = 0;
        }
    }

    private void TopValueEnded(int end) => ValueEnded(end, ref _topValueEnd, ref _topAwaitingValue, ref _topAwaitingKey);

    private void OptionValueEnded(int end) => ValueEnded(end, ref _optionValueEnd, ref _optionAwaitingValue, ref _optionAwaitingKey);

    private void ValueEnded(int end, ref int valueEnd, ref int awaitingValue, ref int awaitingKey)
    {
        valueEnd = end;
        if (awaitingValue > 0)
        {
            _members![awaitingValue - 1].ValueEnd = end;
            awaitingKey = awaitingValue;
            awaitingValue = 0;
        }
    }

    private void OnTopLevelValue(ref Utf8JsonReader reader)
    {
        var type = reader.TokenType;
        switch (_key)
        {
            case BodyKey.Model or BodyKey.Name:
                // Last occurrence of each key wins, as in Go; an empty string resets it, but a null
                // does not: Go's decoder leaves a string field unchanged on null
                // ({"model":"a","model":null} is "a").
                if (type == JsonTokenType.Null)
                {
                    return;
                }

                Candidate value = default;
                if (type == JsonTokenType.String)
                {
                    value = Capture(ref reader, _key == BodyKey.Model ? ModelCapture : NameCapture);
                }
                else
                {
                    // Go refuses the whole body; keep reading so malformed JSON still reports as such.
                    _modelNotAString = true;
                    TrySkip(ref reader);
                }

                if (_key == BodyKey.Model)
                {
                    _model = value;
                }
                else
                {
                    _name = value;
                }

                return;
            case BodyKey.Watched:
                // keep_alive is a *Duration, think a *ThinkValue: null sets them back to nil, "not set".
                if (type == JsonTokenType.Null)
                {
                    _fields![_keyField].Value = default;
                }
                else
                {
                    StartValue(ref reader, _keyField, 1);
                }

                return;
            case BodyKey.Options:
                // A map[string]any: a later object merges into the map already there (decode.go
                // object reuses a non-nil map), null resets it to nil, any other type is a decode error.
                if (type == JsonTokenType.Null)
                {
                    _options = OptionsKind.Null;
                    for (var field = _watched.TopLevelCount; field < _watched.Count; field++)
                    {
                        _fields![field].Value = default;
                    }
                }
                else if (type == JsonTokenType.StartObject)
                {
                    _options = OptionsKind.Object;
                    _optionsOpen = Position(reader.TokenStartIndex);
                    _optionsMembers = 0;
                    _optionValueEnd = 0;
                    _optionAwaitingValue = 0;
                    _optionAwaitingKey = 0;
                    _inOptions = true;
                }
                else
                {
                    _options = OptionsKind.Invalid;
                    TrySkip(ref reader);
                }

                return;
            default:
                TrySkip(ref reader);
                return;
        }
    }

    /// <summary>
    /// Skips the object or array the reader is on in the reader's own loop when the bytes at hand
    /// hold all of it (always, for a body fed whole); otherwise its tokens come one by one.
    /// </summary>
    private bool TrySkip(ref Utf8JsonReader reader)
    {
        if (_skipFailed || reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return false;
        }

        if (reader.TrySkip())
        {
            return true;
        }

        _skipFailed = true;
        return false;
    }

    /// <summary>Notes the value the reader is on; an object or array is complete at its closing bracket.</summary>
    private void StartValue(ref Utf8JsonReader reader, int field, int depth)
    {
        var start = Position(reader.TokenStartIndex);
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            if (TrySkip(ref reader))
            {
                SetValue(field, new BodyValue(start, Position(reader.BytesConsumed) - start, default));
                return;
            }

            _pendingField = field;
            _pendingStart = start;
            _pendingDepth = depth;
            return;
        }

        var length = Position(reader.BytesConsumed) - start;
        Span<byte> kept = stackalloc byte[BodyValue.MaxKeptBytes];
        var keptLength = reader.TokenType == JsonTokenType.String ? reader.ValueSpan.Length + 2 : reader.ValueSpan.Length;
        if (keptLength == length && keptLength <= kept.Length)
        {
            var token = kept[..keptLength];
            if (reader.TokenType == JsonTokenType.String)
            {
                token[0] = (byte)'"';
                reader.ValueSpan.CopyTo(token[1..]);
                token[^1] = (byte)'"';
            }
            else
            {
                reader.ValueSpan.CopyTo(token);
            }

            SetValue(field, new BodyValue(start, length, token));
            return;
        }

        SetValue(field, new BodyValue(start, length, default));
    }

    private void SetValue(int field, BodyValue value) => _fields![field].Value = value;

    /// <summary>Keeps the model or name string token the reader is on, to decode once the body is read.</summary>
    private Candidate Capture(ref Utf8JsonReader reader, int capture)
    {
        var start = Position(reader.TokenStartIndex);
        if (_whole)
        {
            // Decoded from the body once it is read.
            var length = start == _standInStart ? _standInLength : reader.ValueSpan.Length + 2;
            return new Candidate(start, length, length - 2);
        }

        _captures ??= ArrayPool<byte>.Shared.Rent(CapturePoolBytes);
        if (start == _standInStart)
        {
            // The reader has "" for a long string: its first bytes were kept as they went by.
            var candidate = new Candidate(start, _standInLength, _standInLength - 2);
            if (candidate.RawLength <= MaxRawName)
            {
                _captures.AsSpan(LongCapture, _standInLength).CopyTo(_captures.AsSpan(capture));
            }

            return candidate;
        }

        var raw = reader.ValueSpan;
        if (raw.Length <= MaxRawName)
        {
            var token = _captures.AsSpan(capture, raw.Length + 2);
            token[0] = (byte)'"';
            raw.CopyTo(token[1..]);
            token[^1] = (byte)'"';
        }

        return new Candidate(start, raw.Length + 2, raw.Length);
    }

    private readonly record struct Candidate(int TokenStart, int TokenLength, int RawLength);

    /// <summary>Window index <see cref="Index"/> is body offset <see cref="Position"/>, and so on up to the next mark.</summary>
    private readonly record struct Mark(int Index, int Position);

    /// <summary>The marks of one window: a few per cut, and a window holds only the few tokens the reader left.</summary>
    [InlineArray(Capacity)]
    private struct MarkList
    {
        public const int Capacity = 16;

        private Mark _first;
    }
}
