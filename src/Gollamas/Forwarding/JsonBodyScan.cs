using System.Buffers;
using System.Text.Json;

namespace Gollamas.Forwarding;

/// <summary>
/// One reading of a JSON request body, fed in order in chunks of any size, that finds what
/// routing needs (the model, exactly as Ollama's Go decoder reads it: see <see cref="ModelPeek"/>)
/// and what a rewrite needs (the <see cref="BodyLayout"/>) together. Everything else is skipped,
/// never materialised.
/// </summary>
/// <remarks>
/// A <see cref="Utf8JsonReader"/> reads each chunk in place with <c>isFinalBlock: false</c>, its
/// <see cref="JsonReaderState"/> carried over; only a token cut by the end of a chunk is copied,
/// into a pooled window, to be read again with the next chunk. A body fed as one chunk is read in
/// place with no copy. Token positions count from the body's first byte.
/// </remarks>
internal sealed class JsonBodyScan : IDisposable
{
    /// <summary>Raw bytes of the longest model value worth decoding: a name char is at most 6 (a \uXXXX escape).</summary>
    private const int MaxRawName = ModelPeek.MaxNameChars * 6;

    /// <summary>A captured model or name token: its quotes and at most <see cref="MaxRawName"/> bytes.</summary>
    private const int CaptureBytes = MaxRawName + 2;

    private const int ModelCapture = 0;
    private const int NameCapture = CaptureBytes;

    private readonly bool _acceptName;
    private JsonReaderState _readerState = new(ModelPeek.ReaderOptions);

    // Bytes fed but not yet read: a token cut by the end of a chunk. _window[0] is body byte _windowStart.
    private byte[]? _window;
    private int _windowLength;
    private int _windowStart;

    // Body offset of the first byte of the span the reader is on.
    private int _readBase;

    // Body offset of the next byte Feed receives.
    private int _fed;

    private byte[]? _captures;
    private bool _sawContent;
    private Phase _phase;
    private string? _detail;

    private BodyKey _key;
    private bool _modelNotAString;
    private Candidate _model;
    private Candidate _name;

    private bool _inOptions;
    private bool _optionKeyIsNumCtx;
    private ValueTarget _pending;
    private int _pendingStart;
    private int _pendingDepth;

    private int _topClose;
    private bool _topHasMembers;
    private BodyValue _keepAlive;
    private OptionsKind _options;
    private int _optionsClose;
    private bool _optionsEmpty;
    private BodyValue _numCtx;

    /// <param name="acceptName">Whether the deprecated <c>name</c> key stands in for an absent or empty <c>model</c> (pull, show).</param>
    public JsonBodyScan(bool acceptName)
    {
        _acceptName = acceptName;
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

    private enum ValueTarget
    {
        None,
        KeepAlive,
        NumCtx,
    }

    /// <summary>Where Go takes keep_alive and num_ctx from; meaningful once <see cref="Complete"/> has returned.</summary>
    public BodyLayout Layout => new(_phase == Phase.Object, _topClose, _topHasMembers, _keepAlive, _options, _optionsClose, _optionsEmpty, _numCtx);

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
        if (_windowLength == 0)
        {
            var consumed = Read(chunk, chunkStart, isFinalBlock: false);
            if (!IsDone)
            {
                Keep(chunk[consumed..], chunkStart + consumed);
            }

            return;
        }

        Keep(chunk, chunkStart);
        ReadWindow(isFinalBlock: false);
    }

    /// <summary>
    /// Ends the body and gives the model it names. <paramref name="nameBuffer"/> receives the
    /// unescaped name and must hold <see cref="ModelPeek.MaxNameChars"/> chars.
    /// </summary>
    public ModelPeekResult Complete(Span<char> nameBuffer)
    {
        if (!IsDone)
        {
            if (!_sawContent)
            {
                return ModelPeekResult.Fail(PeekStatus.EmptyBody);
            }

            ReadWindow(isFinalBlock: true);
            if (!IsDone)
            {
                // The reader ran out of bytes with the first value still open.
                Fail(UnexpectedEnd);
            }
        }

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

        return ModelPeek.Decode(_captures.AsSpan(capture, chosen.TokenLength), chosen.TokenStart, nameBuffer);
    }

    /// <summary>Returns the pooled buffers.</summary>
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
    }

    private const string UnexpectedEnd = "unexpected end of JSON input";

    private const string SyntaxError = "syntax error";

    private void Fail(string detail)
    {
        _phase = Phase.Invalid;
        _detail = detail;
    }

    /// <summary>Appends bytes to the window, behind the ones it holds.</summary>
    private void Keep(ReadOnlySpan<byte> bytes, int start)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        if (_windowLength == 0)
        {
            _windowStart = start;
        }

        var needed = _windowLength + bytes.Length;
        if (_window is null || _window.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
            if (_window is { } old)
            {
                old.AsSpan(0, _windowLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(old);
            }

            _window = larger;
        }

        bytes.CopyTo(_window.AsSpan(_windowLength));
        _windowLength = needed;
    }

    private void ReadWindow(bool isFinalBlock)
    {
        var consumed = Read(_window.AsSpan(0, _windowLength), _windowStart, isFinalBlock);
        if (IsDone)
        {
            _windowLength = 0;
            return;
        }

        _window.AsSpan(consumed, _windowLength - consumed).CopyTo(_window);
        _windowLength -= consumed;
        _windowStart += consumed;
    }

    /// <summary>Reads the tokens <paramref name="data"/> holds whole; returns how many bytes they took.</summary>
    private int Read(ReadOnlySpan<byte> data, int dataStart, bool isFinalBlock)
    {
        _readBase = dataStart;
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
            // A reader given more bytes to come throws only on bytes no continuation can make
            // valid; on the final block, the end of the body can be what is wrong.
            Fail(isFinalBlock ? UnexpectedEnd : SyntaxError);
            return data.Length;
        }

        _readerState = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    private int Position(long index) => _readBase + (int)index;

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
                    JsonTokenType.StartArray => Phase.InOtherValue,
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
            if (depth == _pendingDepth)
            {
                var start = _pendingStart;
                SetValue(_pending, new BodyValue(start, Position(reader.BytesConsumed) - start, default));
                _pending = ValueTarget.None;
                _pendingDepth = 0;
            }
            else if (depth == 1 && _inOptions)
            {
                _optionsClose = Position(reader.TokenStartIndex);
                _inOptions = false;
            }

            return;
        }

        if (depth == 1)
        {
            if (type == JsonTokenType.PropertyName)
            {
                _topHasMembers = true;
                _key = BodyKeys.Classify(ref reader, _acceptName);
            }
            else
            {
                OnTopLevelValue(ref reader);
            }

            return;
        }

        if (depth == 2 && _inOptions)
        {
            if (type == JsonTokenType.PropertyName)
            {
                _optionsEmpty = false;
                _optionKeyIsNumCtx = BodyKeys.IsNumCtx(ref reader);
            }
            else if (_optionKeyIsNumCtx)
            {
                // A null stays in Go's map, and Options.FromMap skips nil values: "not set".
                if (type == JsonTokenType.Null)
                {
                    _numCtx = default;
                }
                else
                {
                    StartValue(ref reader, ValueTarget.NumCtx, depth);
                }
            }
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
            case BodyKey.KeepAlive:
                // A *Duration: null sets it back to nil, "not set".
                if (type == JsonTokenType.Null)
                {
                    _keepAlive = default;
                }
                else
                {
                    StartValue(ref reader, ValueTarget.KeepAlive, 1);
                }

                return;
            case BodyKey.Options:
                // A map[string]any: a later object merges into the map already there (decode.go
                // object reuses a non-nil map), null resets it to nil, any other type is a decode error.
                if (type == JsonTokenType.Null)
                {
                    _options = OptionsKind.Null;
                    _numCtx = default;
                }
                else if (type == JsonTokenType.StartObject)
                {
                    _options = OptionsKind.Object;
                    _optionsEmpty = true;
                    _inOptions = true;
                }
                else
                {
                    _options = OptionsKind.Invalid;
                }

                return;
        }
    }

    /// <summary>Notes the value the reader is on; an object or array is complete at its closing bracket.</summary>
    private void StartValue(ref Utf8JsonReader reader, ValueTarget target, int depth)
    {
        var start = Position(reader.TokenStartIndex);
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            _pending = target;
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

            SetValue(target, new BodyValue(start, length, token));
            return;
        }

        SetValue(target, new BodyValue(start, length, default));
    }

    private void SetValue(ValueTarget target, BodyValue value)
    {
        if (target == ValueTarget.KeepAlive)
        {
            _keepAlive = value;
        }
        else
        {
            _numCtx = value;
        }
    }

    /// <summary>Keeps the model or name string token the reader is on, to decode once the body is read.</summary>
    private Candidate Capture(ref Utf8JsonReader reader, int capture)
    {
        var raw = reader.ValueSpan;
        var candidate = new Candidate(Position(reader.TokenStartIndex), raw.Length + 2, raw.Length);
        if (raw.Length <= MaxRawName)
        {
            _captures ??= ArrayPool<byte>.Shared.Rent(2 * CaptureBytes);
            var token = _captures.AsSpan(capture, raw.Length + 2);
            token[0] = (byte)'"';
            raw.CopyTo(token[1..]);
            token[^1] = (byte)'"';
        }

        return candidate;
    }

    private readonly record struct Candidate(int TokenStart, int TokenLength, int RawLength);
}
