using System.Runtime.InteropServices;
using System.Text;

namespace Harness.Core.Serialization;

/// <summary>
/// The one way this harness replaces a file: write a uniquely named temporary file in the target's folder, flush it
/// to disk, rename it over the target, then flush the folder (on Unix) so the rename itself survives a power cut.
/// A reader sees the old file or the complete new one, never a torn one; a failed write leaves no temporary behind.
/// </summary>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// A fresh temporary path beside <paramref name="path"/>: hidden, and unique per call, so two writers of the
    /// same target never write into each other's temporary file.
    /// </summary>
    public static string TemporaryPathFor(string path)
    {
        var fullPath = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="bytes"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var fullPath = Path.GetFullPath(path);
        var temporary = TemporaryPathFor(fullPath);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            Commit(temporary, fullPath, flushFile: false);
        }
        finally
        {
            DeleteQuietly(temporary);
        }
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="text"/> as UTF-8 without a byte-order mark.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Utf8NoBom.GetBytes(text));

    /// <summary>Replaces <paramref name="path"/> with what <paramref name="write"/> writes into the stream it is given.</summary>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        var fullPath = Path.GetFullPath(path);
        var temporary = TemporaryPathFor(fullPath);
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
            await using (stream)
            {
                await write(stream, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            Commit(temporary, fullPath, flushFile: false);
        }
        finally
        {
            DeleteQuietly(temporary);
        }
    }

    /// <summary>
    /// Puts a finished file that something else wrote (a download, a native quantizer) in place of
    /// <paramref name="path"/>: flushes it to disk, renames it, flushes the folder. The two must share a folder.
    /// </summary>
    public static void Commit(string temporaryPath, string path) => Commit(Path.GetFullPath(temporaryPath), Path.GetFullPath(path), flushFile: true);

    /// <summary>
    /// Flushes a folder's entries (names, renames) to disk. Returns false where the platform has no such call
    /// (Windows, where a rename is flushed with the file system's own journal).
    /// </summary>
    /// <exception cref="IOException">The folder cannot be opened or flushed.</exception>
    public static bool FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        // O_RDONLY opens a folder on Linux and macOS alike; .NET's own open refuses folders.
        var descriptor = LibC.OpenReadOnly(directory);
        if (descriptor < 0)
        {
            throw new IOException($"cannot open folder '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (LibC.Fsync(descriptor) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                // EINVAL: the file system cannot sync a folder (some network and FUSE mounts); the rename still happened.
                if (errno != LibC.EInval)
                {
                    throw new IOException($"cannot flush folder '{directory}' (errno {errno})");
                }
            }
        }
        finally
        {
            _ = LibC.Close(descriptor);
        }

        return true;
    }

    private static void Commit(string temporary, string fullPath, bool flushFile)
    {
        if (flushFile)
        {
            using var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, fullPath, overwrite: true);
        FlushDirectory(Path.GetDirectoryName(fullPath)!);
    }

    private static void DeleteQuietly(string temporary)
    {
        try
        {
            File.Delete(temporary);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The write already failed or succeeded; a leftover hidden temporary must not hide that outcome.
        }
    }
}
