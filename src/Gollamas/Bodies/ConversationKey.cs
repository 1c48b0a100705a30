using System.Buffers.Binary;
using System.Text.Json;

namespace Gollamas.Bodies;

/// <summary>
/// A 64-bit key for the conversation a request body continues, found without the client's
/// help and the same on every turn of it, so that the route choice can send a later turn where
/// the earlier ones went and the server's prompt cache serves it.
/// </summary>
/// <remarks>
/// <para>
/// What the key covers, by <see cref="ConversationShape"/>:
/// chat shapes hash the top-level system prompt (Anthropic's <c>system</c>, the Responses API's
/// <c>instructions</c>), the content of every <c>system</c> or <c>developer</c> message before the
/// first <c>user</c> message, and the content of that first user message, whatever its shape
/// (a string or a list of parts). A later turn only appends messages, so none of these change;
/// a body with no user message yet has no key. <c>/api/generate</c> hashes <c>system</c> and the
/// first <see cref="PromptPrefixBytes"/> raw bytes of <c>prompt</c> (a raw-mode conversation
/// resends a growing prompt with the same beginning; a shorter prompt is covered whole, so such a
/// conversation's key settles once its prompt holds that many bytes); a prompt shorter than
/// <see cref="MinPromptBytes"/> bytes has no key. The model is not part of the key: aliases and
/// routes decide which model serves it.
/// </para>
/// <para>
/// The fields are read as Ollama's Go decoder reads them: keys match as <c>foldName</c> matches
/// them (<see cref="BodyKeys.GoFoldEquals"/>), in any order, and the last of a repeated top-level
/// key wins; <c>null</c> leaves a Go string as it was and empties a list. A content value is
/// hashed token by token (kind and raw bytes), so white space between its tokens does not count,
/// and neither does a <c>cache_control</c> member at any depth: Anthropic clients mark the
/// latest messages with it, and the mark moves on as the conversation grows.
/// </para>
/// <para>
/// The caller may pass only the body's first bytes (<c>isFinalBlock: false</c>). The key is
/// then computed when every part of it lies in those bytes: the first user message (or the
/// prompt's first bytes) and, for shapes with a top-level system prompt, that field, which
/// may be absent only when the whole body is known. A repeated key after the bytes passed cannot
/// be seen, so such a body's key may differ from what its whole reading would give. The work is
/// one forward reading of the bytes passed, skipping every value that is not part of the key
/// (images, tools, the messages after the first user one) without copying it. A body that is
/// not JSON, or whose parts have a type Go would refuse, has no key; nothing throws.
/// </para>
/// <para>
/// The hash is this file's own (a multiply-fold over 8-byte words), seeded once per process at
/// random: the key never leaves the process, and a seed nobody outside knows keeps clients from
/// choosing keys that collide in the affinity table. It is not a security boundary: a collision
/// only sends a request to a server its conversation did not use.
/// </para>
/// </remarks>
internal static class ConversationKey
{
    /// <summary>How many raw bytes of a generate prompt the key covers.</summary>
    public const int PromptPrefixBytes = 512;

    /// <summary>A generate prompt shorter than this (raw bytes) has no key: too little to tell conversations apart.</summary>
    public const int MinPromptBytes = 64;

    /// <summary>Longest escaped key worth unescaping: the longest name read here is 13 runes, at most 6 bytes each.</summary>
    private const int MaxEscapedKeyBytes = 6 * 13;

    private static readonly ulong s_seed = (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);

    private enum Step
    {
        /// <summary>The value was read.</summary>
        Done,

        /// <summary>The bytes ended inside the value.</summary>
        OutOfData,

        /// <summary>The value has a type Go's decoder refuses there.</summary>
        Invalid,
    }

    private enum Field
    {
        Other,

        /// <summary><c>messages</c>, or the Responses API's <c>input</c>.</summary>
        Turns,

        /// <summary>The top-level system prompt: <c>system</c>, or the Responses API's <c>instructions</c>.</summary>
        System,

        /// <summary>The generate <c>prompt</c>.</summary>
        Prompt,
    }

    private enum Role
    {
        Other,
        System,
        User,
    }

    /// <summary>
    /// Computes the key of the conversation <paramref name="jsonPrefix"/> continues. Returns false
    /// when it has none: no user message or prompt long enough, a part not within the bytes
    /// passed, or a body that is not JSON.
    /// </summary>
    /// <param name="jsonPrefix">The request body, or its first bytes.</param>
    /// <param name="isFinalBlock">Whether <paramref name="jsonPrefix"/> is the whole body.</param>
    /// <param name="shape">Where the body keeps its conversation; <see cref="ConversationShape.None"/> has no key.</param>
    /// <param name="key">The key, or 0.</param>
    public static bool TryCompute(ReadOnlySpan<byte> jsonPrefix, bool isFinalBlock, ConversationShape shape, out ulong key)
    {
        key = 0;
        if (shape == ConversationShape.None)
        {
            return false;
        }

        try
        {
            return Scan(jsonPrefix, isFinalBlock, shape, out key);
        }
        catch (JsonException)
        {
            key = 0;
            return false;
        }
    }

    private static bool Scan(ReadOnlySpan<byte> json, bool isFinalBlock, ConversationShape shape, out ulong key)
    {
        key = 0;
        var reader = new Utf8JsonReader(json, isFinalBlock, new JsonReaderState(ModelPeek.ReaderOptions));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var parts = default(Parts);
        while (true)
        {
            if (!reader.Read())
            {
                return parts.TryFinish(shape, complete: false, out key);
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                // The first JSON value is all Go's decoder reads: what follows it does not matter.
                return parts.TryFinish(shape, complete: true, out key);
            }

            var field = Classify(ref reader, shape);
            var valueStart = (int)reader.BytesConsumed;
            if (!reader.Read())
            {
                if (field == Field.Prompt)
                {
                    parts.TakePromptStart(json[valueStart..]);
                }

                return parts.TryFinish(shape, complete: false, out key);
            }

            var step = field switch
            {
                Field.Turns => ReadTurns(ref reader, json, shape, ref parts),
                Field.System => ReadSystem(ref reader, json, shape, ref parts),
                Field.Prompt => ReadPrompt(ref reader, ref parts),
                _ => reader.TrySkip() ? Step.Done : Step.OutOfData,
            };
            if (step == Step.Invalid)
            {
                return false;
            }

            if (step == Step.OutOfData)
            {
                return parts.TryFinish(shape, complete: false, out key);
            }
        }
    }

    private static Field Classify(ref Utf8JsonReader reader, ConversationShape shape)
    {
        var match = shape switch
        {
            ConversationShape.OllamaGenerate => MatchKey(ref reader, "prompt"u8, "system"u8),
            ConversationShape.AnthropicMessages => MatchKey(ref reader, "messages"u8, "system"u8),
            ConversationShape.OpenAiResponses => MatchKey(ref reader, "input"u8, "instructions"u8),
            _ => MatchKey(ref reader, "messages"u8, default),
        };
        return match switch
        {
            1 => shape == ConversationShape.OllamaGenerate ? Field.Prompt : Field.Turns,
            2 => Field.System,
            _ => Field.Other,
        };
    }

    /// <summary>
    /// The list of messages (or Responses items), read up to its first user message; the rest
    /// of the list is skipped.
    /// </summary>
    private static Step ReadTurns(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ConversationShape shape, ref Parts parts)
    {
        parts.ResetTurns();
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return Step.Done;
            case JsonTokenType.String when shape == ConversationShape.OpenAiResponses:
                // The Responses API takes a single user message as a bare string.
                parts.FoundUser(HashValue(TokenBytes(ref reader, json)));
                return Step.Done;
            case JsonTokenType.StartArray:
                break;
            default:
                return Step.Invalid;
        }

        var systems = new Hasher(s_seed);
        while (true)
        {
            if (!reader.Read())
            {
                return Step.OutOfData;
            }

            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return Step.Done;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                // Not a message (Go refuses it; a Responses item without a role is no message either).
                if (!reader.TrySkip())
                {
                    return Step.OutOfData;
                }

                continue;
            }

            var step = ReadMessage(ref reader, out var role, out var contentStart, out var contentEnd);
            if (step != Step.Done)
            {
                return step;
            }

            if (role == Role.System && contentStart >= 0)
            {
                systems.Add(HashValue(json[contentStart..contentEnd]));
                parts.SetTurnSystem(systems.Value);
            }
            else if (role == Role.User)
            {
                parts.FoundUser(contentStart < 0 ? 0 : HashValue(json[contentStart..contentEnd]));
                return SkipRest(ref reader);
            }
        }
    }

    /// <summary>One message object: its role and where its content's value lies (-1 when absent). The last of a repeated member wins.</summary>
    private static Step ReadMessage(ref Utf8JsonReader reader, out Role role, out int contentStart, out int contentEnd)
    {
        role = Role.Other;
        contentStart = -1;
        contentEnd = -1;
        while (true)
        {
            if (!reader.Read())
            {
                return Step.OutOfData;
            }

            if (reader.TokenType == JsonTokenType.EndObject)
            {
                return Step.Done;
            }

            var member = MatchKey(ref reader, "role"u8, "content"u8);
            if (!reader.Read())
            {
                return Step.OutOfData;
            }

            if (member == 1)
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    role = RoleOf(ref reader);
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    return Step.Invalid;
                }

                continue;
            }

            var start = (int)reader.TokenStartIndex;
            if (!reader.TrySkip())
            {
                return Step.OutOfData;
            }

            if (member == 2)
            {
                contentStart = start;
                contentEnd = (int)reader.BytesConsumed;
            }
        }
    }

    private static Role RoleOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("user"u8))
        {
            return Role.User;
        }

        return reader.ValueTextEquals("system"u8) || reader.ValueTextEquals("developer"u8) ? Role.System : Role.Other;
    }

    /// <summary>Skips the messages after the first user one, to the list's end.</summary>
    private static Step SkipRest(ref Utf8JsonReader reader)
    {
        while (true)
        {
            if (!reader.Read())
            {
                return Step.OutOfData;
            }

            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return Step.Done;
            }

            if (!reader.TrySkip())
            {
                return Step.OutOfData;
            }
        }
    }

    private static Step ReadSystem(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ConversationShape shape, ref Parts parts)
    {
        // Anthropic's system is a string or a list of text blocks; generate's system and the
        // Responses API's instructions are Go strings, which null leaves as they were.
        var isGoString = shape != ConversationShape.AnthropicMessages;
        if (reader.TokenType == JsonTokenType.Null)
        {
            parts.SawSystemNull(reset: !isGoString);
            return Step.Done;
        }

        if (isGoString && reader.TokenType != JsonTokenType.String)
        {
            return Step.Invalid;
        }

        var start = (int)reader.TokenStartIndex;
        if (!reader.TrySkip())
        {
            return Step.OutOfData;
        }

        parts.SetSystem(HashValue(json[start..(int)reader.BytesConsumed]));
        return Step.Done;
    }

    private static Step ReadPrompt(ref Utf8JsonReader reader, ref Parts parts)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return Step.Done;
            case JsonTokenType.String:
                parts.SetPrompt(reader.ValueSpan);
                return Step.Done;
            default:
                return Step.Invalid;
        }
    }

    private static ReadOnlySpan<byte> TokenBytes(ref Utf8JsonReader reader, ReadOnlySpan<byte> json) =>
        json[(int)reader.TokenStartIndex..(int)reader.BytesConsumed];

    /// <summary>
    /// Hashes one complete JSON value token by token (kind and raw bytes), leaving out white space
    /// between tokens and every <c>cache_control</c> member.
    /// </summary>
    private static ulong HashValue(ReadOnlySpan<byte> value)
    {
        var hash = new Hasher(s_seed);
        var reader = new Utf8JsonReader(value, isFinalBlock: true, new JsonReaderState(ModelPeek.ReaderOptions));
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && MatchKey(ref reader, "cache_control"u8, default) == 1)
            {
                reader.Skip();
                continue;
            }

            hash.Add((ulong)reader.TokenType);
            hash.Add(reader.ValueSpan);
        }

        return hash.Value;
    }

    /// <summary>
    /// 1 when the property name the reader is on matches <paramref name="first"/> as Go's
    /// <c>foldName</c> does, 2 for <paramref name="second"/>, else 0. An empty name matches nothing.
    /// </summary>
    private static int MatchKey(ref Utf8JsonReader reader, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        if (!reader.ValueIsEscaped)
        {
            return MatchName(reader.ValueSpan, first, second);
        }

        if (reader.ValueSpan.Length > MaxEscapedKeyBytes)
        {
            return 0;
        }

        Span<byte> unescaped = stackalloc byte[MaxEscapedKeyBytes];
        try
        {
            return MatchName(unescaped[..reader.CopyString(unescaped)], first, second);
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape: Go reads U+FFFD there, which no name here contains.
            return 0;
        }
    }

    private static int MatchName(ReadOnlySpan<byte> key, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        if (BodyKeys.GoFoldEquals(key, first))
        {
            return 1;
        }

        return !second.IsEmpty && BodyKeys.GoFoldEquals(key, second) ? 2 : 0;
    }

    /// <summary>What has been found of the key's parts so far; a repeated top-level key replaces its part.</summary>
    private struct Parts
    {
        private bool _systemSeen;
        private bool _hasSystem;
        private ulong _system;
        private ulong _turnSystem;
        private bool _hasUser;
        private ulong _user;
        private bool _hasPrompt;
        private ulong _prompt;

        public void ResetTurns()
        {
            _turnSystem = 0;
            _hasUser = false;
            _user = 0;
        }

        public void SetTurnSystem(ulong hash) => _turnSystem = hash;

        public void FoundUser(ulong hash)
        {
            _hasUser = true;
            _user = hash;
        }

        public void SetSystem(ulong hash)
        {
            _systemSeen = true;
            _hasSystem = true;
            _system = hash;
        }

        public void SawSystemNull(bool reset)
        {
            _systemSeen = true;
            if (reset)
            {
                _hasSystem = false;
                _system = 0;
            }
        }

        public void SetPrompt(ReadOnlySpan<byte> raw)
        {
            _hasPrompt = raw.Length >= MinPromptBytes;
            _prompt = _hasPrompt ? HashPrompt(raw[..Math.Min(raw.Length, PromptPrefixBytes)]) : 0;
        }

        /// <summary>
        /// The bytes ended inside the prompt's value (<paramref name="rest"/> starts where the value
        /// does): a string holding at least <see cref="PromptPrefixBytes"/> bytes before the end
        /// still gives the key's part. The reader found no closing quote in them, so all are the
        /// string's.
        /// </summary>
        public void TakePromptStart(ReadOnlySpan<byte> rest)
        {
            rest = rest.TrimStart(" \t\r\n"u8);
            if (!rest.IsEmpty && rest[0] == (byte)':')
            {
                rest = rest[1..].TrimStart(" \t\r\n"u8);
            }

            if (rest.Length > PromptPrefixBytes && rest[0] == (byte)'"')
            {
                SetPrompt(rest.Slice(1, PromptPrefixBytes));
            }
        }

        /// <summary>
        /// The key, when its parts are known: <paramref name="complete"/> says the whole top-level
        /// object was read, so a field not seen is absent rather than beyond the bytes passed.
        /// </summary>
        public readonly bool TryFinish(ConversationShape shape, bool complete, out ulong key)
        {
            key = 0;
            var hasTopSystem = shape is ConversationShape.OllamaGenerate or ConversationShape.AnthropicMessages
                or ConversationShape.OpenAiResponses;
            if (hasTopSystem && !complete && !_systemSeen)
            {
                return false;
            }

            var generate = shape == ConversationShape.OllamaGenerate;
            if (generate ? !_hasPrompt : !_hasUser)
            {
                return false;
            }

            var hash = new Hasher(s_seed);
            hash.Add(generate ? 2UL : 1UL);
            hash.Add(_hasSystem ? 1UL : 0UL);
            hash.Add(_system);
            hash.Add(_turnSystem);
            hash.Add(generate ? _prompt : _user);
            key = hash.Value;
            return true;
        }

        private static ulong HashPrompt(ReadOnlySpan<byte> raw)
        {
            var hash = new Hasher(s_seed);
            hash.Add(raw);
            return hash.Value;
        }
    }

    /// <summary>
    /// A 64-bit hash over 8-byte words: each word is mixed into the state by a 64x64-bit multiply
    /// whose two halves are folded together (the mixing step of wyhash and foldhash); each span
    /// ends with its length, so the parts of a key cannot run into each other.
    /// </summary>
    private struct Hasher(ulong seed)
    {
        private const ulong K0 = 0xa0761d6478bd642f;
        private const ulong K1 = 0xe7037ed1a0b428db;
        private const ulong K2 = 0x8ebc6af09c88c6e3;

        private ulong _state = seed;

        public readonly ulong Value => Fold(_state, K2);

        public void Add(ulong value) => _state = Fold(_state ^ value, K1);

        public void Add(ReadOnlySpan<byte> bytes)
        {
            var state = _state;
            var length = (ulong)bytes.Length;
            while (bytes.Length >= sizeof(ulong))
            {
                state = Fold(state ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes), K1);
                bytes = bytes[sizeof(ulong)..];
            }

            ulong tail = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                tail |= (ulong)bytes[i] << (8 * i);
            }

            _state = Fold(state ^ tail, K2 ^ length);
        }

        private static ulong Fold(ulong a, ulong b)
        {
            var high = Math.BigMul(a ^ K0, b, out var low);
            return high ^ low;
        }
    }
}
