using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Gollamas.Forwarding;

/// <summary>
/// A read-only view of a body's temporary file, for the readers that need the whole body as one
/// span (the multipart form peek). Its pages are the file's, in the kernel's page cache: clean,
/// given back under memory pressure and when the view is disposed, never copied into the heap.
/// </summary>
internal sealed unsafe class MappedBody : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private readonly int _length;

    private MappedBody(MemoryMappedFile file, MemoryMappedViewAccessor view, byte* pointer, int length)
    {
        _file = file;
        _view = view;
        _pointer = pointer;
        _length = length;
    }

    public ReadOnlySpan<byte> Span => new(_pointer, _length);

    /// <summary>Maps the first <paramref name="length"/> bytes (at least one) of <paramref name="handle"/>.</summary>
    public static MappedBody Map(SafeFileHandle handle, int length)
    {
        var file = MemoryMappedFile.CreateFromFile(handle, mapName: null, length, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new MappedBody(file, view, pointer + view.PointerOffset, length);
        }
        catch
        {
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
