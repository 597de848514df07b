using System.Runtime.InteropServices;
using Harness.Core.Contention;

namespace Harness.Energy.Contention;

/// <summary>
/// Windows: machine CPU times from <c>GetSystemTimes</c> (kernel time there includes idle). Windows has no load average
/// and counts no steal, so those stay null.
/// </summary>
public sealed partial class WindowsContentionProbe : IContentionProbe
{
    /// <inheritdoc/>
    public string Source => "GetSystemTimes (no load average or steal on Windows)";

    /// <inheritdoc/>
    public ContentionReading Read()
    {
        try
        {
            if (!OperatingSystem.IsWindows() || !GetSystemTimes(out var idle, out var kernel, out var user))
            {
                return new ContentionReading(null, null);
            }

            return new ContentionReading(new MachineCpuTimes(TimeSpan.FromTicks(kernel + user), TimeSpan.FromTicks(idle), null), null);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return new ContentionReading(null, null);
        }
    }

    // FILETIMEs are 100 ns units, the same as TimeSpan ticks; read as 64-bit integers.
    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetSystemTimes(out long idleTime, out long kernelTime, out long userTime);
}

/// <summary>A machine whose OS this harness cannot read contention on: every figure null, and the source says why.</summary>
public sealed class UnavailableContentionProbe(string why) : IContentionProbe
{
    /// <inheritdoc/>
    public string Source => why;

    /// <inheritdoc/>
    public ContentionReading Read() => new(null, null);
}
