using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Harness.Cli.Workers;

/// <summary>
/// Gives the worker a private stdout for the protocol. llama.cpp and ggml print straight to file descriptor 1;
/// so on Unix the real stdout is duplicated for the protocol and fd 1 is pointed at stderr, where stray native
/// output is harmless (the parent keeps stderr's tail as crash evidence).
/// </summary>
internal static partial class ProtocolChannel
{
    public static Stream OpenOutput()
    {
        if (OperatingSystem.IsWindows())
        {
            var stdout = Console.OpenStandardOutput();
            Console.SetOut(Console.Error);
            return stdout;
        }

        var protocolFd = Dup(1);
        if (protocolFd < 0 || Dup2(2, 1) < 0)
        {
            throw new IOException($"could not separate the protocol channel from stdout (errno {Marshal.GetLastPInvokeError()})");
        }

        return new FileStream(new SafeFileHandle(protocolFd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
    }

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Dup(int fd);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int oldFd, int newFd);
}
