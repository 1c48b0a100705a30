namespace Gollamas.Diagnostics;

/// <summary>
/// Why a file could not be read or written, in words of ours, from the exception's type and
/// error number. The runtime's message is a resource key in the published binary
/// (<c>IO_FileNotFound_FileName</c>), so it never reaches a user.
/// </summary>
internal static class FileProblem
{
    // errno values (Linux) the runtime keeps in IOException.HResult on Unix.
    private const int NotADirectory = 20;
    private const int IsADirectory = 21;
    private const int TooManyOpenFiles = 24;
    private const int NoSpace = 28;
    private const int ReadOnlyFileSystem = 30;
    private const int QuotaExceeded = 122;

    /// <summary>What was wrong with <paramref name="path"/>: "file not found", "permission denied", "is a directory", ...</summary>
    public static string Describe(Exception ex, string path) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => "file not found",
        // Opening a directory as a file fails as a permission problem on Unix.
        UnauthorizedAccessException when Directory.Exists(path) => "is a directory",
        UnauthorizedAccessException => "permission denied",
        PathTooLongException => "the path is too long",
        IOException { HResult: IsADirectory } => "is a directory",
        IOException { HResult: NotADirectory } => "a part of the path is not a directory",
        IOException { HResult: NoSpace } => "no space left on the device",
        IOException { HResult: QuotaExceeded } => "disk quota exceeded",
        IOException { HResult: ReadOnlyFileSystem } => "read-only file system",
        IOException { HResult: TooManyOpenFiles } => "too many open files",
        ArgumentException or NotSupportedException => "not a valid path",
        _ => "an input/output error",
    };
}
