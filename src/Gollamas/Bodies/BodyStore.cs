
namespace Gollamas.Bodies;

/// <summary>
/// Where request bodies live while the proxy reads them and sends them on: in pooled memory while
/// small, in a temporary file past <see cref="MemoryThreshold"/> (nginx does the same above
/// <c>client_body_buffer_size</c>). A process-wide budget bounds the bytes all bodies hold in
/// memory together; once it is spent, new bodies go to a file from their first byte, so a crowd of
/// bodies just under the threshold cannot take memory either.
/// </summary>
/// <remarks>
/// A 200 MB chat body held in a doubling pooled array took the proxy from 18 MiB to 465 MiB RSS,
/// four at once to 1.5 GiB, and the shared pool and server GC kept it there. With the body on a
/// file the process holds one threshold-sized array at most per body while it reads, and the
/// file's pages belong to the kernel's page cache, which gives them back under pressure.
/// </remarks>
internal sealed class BodyStore
{
    /// <summary>
    /// Largest body held in memory: chats and generations without images are a few KiB, an image
    /// is hundreds of KiB to MiBs. 1 MiB is also the largest array the proxy takes from the shared
    /// pool for a body, a size the pool holds few of.
    /// </summary>
    public const int DefaultMemoryThreshold = 1024 * 1024;

    /// <summary>Bytes all bodies may hold in memory at once: 64 bodies at the threshold.</summary>
    public const long DefaultMemoryBudget = 64L * 1024 * 1024;

    private long _inMemory;
    private long _spooledBySize;
    private long _spooledByBudget;

    public BodyStore(string directory, int memoryThreshold = DefaultMemoryThreshold, long memoryBudget = DefaultMemoryBudget)
    {
        Directory = directory;
        MemoryThreshold = memoryThreshold;
        MemoryBudget = memoryBudget;
    }

    /// <summary>The directory of the temporary files.</summary>
    public string Directory { get; }

    public int MemoryThreshold { get; }

    public long MemoryBudget { get; }

    /// <summary>Bytes of arrays bodies hold now.</summary>
    public long InMemory => Volatile.Read(ref _inMemory);

    /// <summary>Bodies that went to a file because they grew past the threshold.</summary>
    public long SpooledBySize => Volatile.Read(ref _spooledBySize);

    /// <summary>Bodies that went to a file because the memory budget was spent.</summary>
    public long SpooledByBudget => Volatile.Read(ref _spooledByBudget);

    /// <summary>Takes <paramref name="bytes"/> from the budget; false (nothing taken) when it has not that much left.</summary>
    public bool TryReserve(int bytes)
    {
        var current = Volatile.Read(ref _inMemory);
        while (true)
        {
            if (current + bytes > MemoryBudget)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _inMemory, current + bytes, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    public void Release(int bytes) => Interlocked.Add(ref _inMemory, -bytes);

    /// <summary>
    /// Opens a new temporary file for one body: created with mode 0600 under a random name, and
    /// unlinked at once, so it is nobody else's to read and nothing is left behind whatever ends
    /// the process. Its space is freed when the handle is closed.
    /// </summary>
    public FileStream CreateFile(bool overBudget)
    {
        FileStream handle;
        try
        {
            handle = Create(Directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BodyStoreException(ex);
        }

        Interlocked.Increment(ref overBudget ? ref _spooledByBudget : ref _spooledBySize);
        return handle;
    }

    /// <summary>
    /// Whether <paramref name="directory"/> can hold body files: null when it can (a file was
    /// created and removed there), else why not, as a sentence for the start-up error.
    /// </summary>
    public static string? Check(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return File.Exists(directory) ? "not a directory" : "no such directory";
        }

        try
        {
            using var probe = Create(directory);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return "directory not writable (permission denied)";
        }
        catch (IOException)
        {
            return "cannot create a file in this directory (read-only file system, or full)";
        }
    }

    private static FileStream Create(string directory)
    {
        // The name need not be secret: CreateNew (O_EXCL) never opens a file or link someone else
        // put there, and the file is unlinked at once. Random.Shared rather than the system's
        // cryptographic generator, which on Linux loads OpenSSL: a proxy without TLS needs none.
        Span<byte> random = stackalloc byte[12];
        Random.Shared.NextBytes(random);
        var path = Path.Combine(directory, "gollamas-body-" + Convert.ToHexStringLower(random));
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Created so, not changed after: no moment when another user of a shared /tmp may open it.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var file = new FileStream(path, options);
        try
        {
            File.Delete(path);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return file;
    }
}
