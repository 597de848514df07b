using System.Runtime.InteropServices;
using Harness.Core.Contention;

namespace Harness.Energy.Contention;

/// <summary>
/// macOS: the 1-minute load average from <c>getloadavg</c>. Machine CPU times (and so other processes' share) are not
/// read here: the figures stay null and the record says so.
/// </summary>
public sealed partial class MacContentionProbe : IContentionProbe
{
    /// <inheritdoc/>
    public string Source => "getloadavg (no machine CPU times on macOS)";

    /// <inheritdoc/>
    public ContentionReading Read()
    {
        var loads = new double[3];
        try
        {
            return new ContentionReading(null, GetLoadAverage(loads, loads.Length) >= 1 ? loads[0] : null);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return new ContentionReading(null, null);
        }
    }

    [LibraryImport("libc", EntryPoint = "getloadavg")]
    private static partial int GetLoadAverage([Out] double[] loads, int count);
}
