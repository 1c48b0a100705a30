namespace Gollamas.Tests.Published;

/// <summary>
/// The linux-arm64 Native-AOT binary, run on an x64 machine under qemu user emulation. Both are
/// named by the environment (.ci/run sets them after publishing linux-arm64):
/// GOLLAMAS_ARM64_BINARY, the binary, and GOLLAMAS_QEMU_AARCH64, qemu-aarch64-static. Without
/// them the tests that need it are skipped, with <see cref="SkipReason"/> as the reason.
/// </summary>
internal static class EmulatedArm64Binary
{
    public const string BinaryVariable = "GOLLAMAS_ARM64_BINARY";

    public const string QemuVariable = "GOLLAMAS_QEMU_AARCH64";

    /// <summary>Where Debian's arm64 cross packages put the arm64 glibc and its loader.</summary>
    public const string Sysroot = "/usr/aarch64-linux-gnu";

    /// <summary>ELF e_machine of AArch64.</summary>
    public const ushort ElfMachineAarch64 = 183;

    /// <summary>
    /// How long the emulated binary may take to listen: 5 to 8 s on an idle 2-core machine, and
    /// the test run shares those cores with every other test.
    /// </summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    public static string? Path => Variable(BinaryVariable);

    public static string? Qemu => Variable(QemuVariable);

    /// <summary>Null when both variables are set; otherwise why the arm64 tests cannot run.</summary>
    public static string? SkipReason =>
        Path is null || Qemu is null
            ? $"arm64 binary not tested: {BinaryVariable} and {QemuVariable} are not both set (.ci/run sets them when it can publish linux-arm64 and has qemu-user-static)"
            : null;

    /// <summary>Starts the arm64 binary with <paramref name="args"/> under qemu.</summary>
    public static RunningBinary Start(params string[] args)
    {
        File.Exists(Path).Should().BeTrue($"{BinaryVariable} names {Path}");
        File.Exists(Qemu).Should().BeTrue($"{QemuVariable} names {Qemu}");
        return RunningBinary.Start(Qemu!, ["-L", Sysroot, Path!], args);
    }

    /// <summary>The e_machine field of the binary's ELF header (offset 18, little-endian).</summary>
    public static ushort ElfMachine()
    {
        Span<byte> header = stackalloc byte[20];
        using var file = File.OpenRead(Path!);
        file.ReadExactly(header);
        return (ushort)(header[18] | (header[19] << 8));
    }

    private static string? Variable(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
