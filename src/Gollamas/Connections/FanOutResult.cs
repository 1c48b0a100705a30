using System.Text.Json;

namespace Gollamas.Connections;

/// <summary>One connection's answer to a fan-out request; <c>Document</c> is null when it failed.</summary>
internal readonly record struct FanOutResult(Connection Connection, JsonDocument? Document);
