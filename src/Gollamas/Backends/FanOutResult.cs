using System.Text.Json;

namespace Gollamas.Backends;

/// <summary>One backend's answer to a fan-out request; <c>Document</c> is null when it failed.</summary>
internal readonly record struct FanOutResult(Backend Backend, JsonDocument? Document);
