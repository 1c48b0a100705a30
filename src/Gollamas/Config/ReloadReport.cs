namespace Gollamas.Config;

/// <summary>
/// How a reload of the configuration ended, for whoever asked for it (the admin action answers
/// it as JSON): in force with what changed, or refused with every problem, in words of ours.
/// </summary>
/// <param name="Succeeded">Whether the configuration read is in force now.</param>
/// <param name="Changes">What changed, one sentence ("models added: qwen3:8b"), when it succeeded.</param>
/// <param name="Models">Models routed after it.</param>
/// <param name="Connections">Connections in use after it.</param>
/// <param name="Problems">Why it was refused (nothing changed then), one line each.</param>
/// <param name="NeedRestart">The flags of fixed settings that changed and keep their value until a restart.</param>
internal sealed record ReloadReport(bool Succeeded, string? Changes, int Models, int Connections, IReadOnlyList<string> Problems, IReadOnlyList<string> NeedRestart);
