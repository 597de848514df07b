using System.Runtime.InteropServices;
using System.Text;

namespace Harness.Core.Serialization;

/// <summary>
/// The few libc calls .NET does not expose: opening a folder to fsync it, and reading a file that another process
/// holds under <c>flock</c> (every .NET open takes a flock, so it cannot read such a file). Unix only.
/// </summary>
internal static class LibC
{
    public const int EInval = 22;

    /// <summary>Opens <paramref name="path"/> read-only (a folder too); returns -1 and sets the errno on failure.</summary>
    public static int OpenReadOnly(string path) => Open([.. Encoding.UTF8.GetBytes(path), 0], 0);

    /// <summary>Up to <paramref name="maxBytes"/> bytes from the start of the file, without taking a lock; null when unreadable.</summary>
    public static byte[]? ReadPrefix(string path, int maxBytes)
    {
        var descriptor = OpenReadOnly(path);
        if (descriptor < 0)
        {
            return null;
        }

        try
        {
            var buffer = new byte[maxBytes];
            var read = Read(descriptor, buffer, (nint)maxBytes);
            return read < 0 ? null : buffer[..(int)read];
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] nullTerminatedUtf8Path, int flags);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    private static extern nint Read(int descriptor, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int descriptor);
}
