using System.Collections.Immutable;

namespace Harness.Energy.Windows;

/// <summary>
/// The seam between <see cref="EmiMeter"/> and Windows: finding Energy Meter Interface devices and sending them the EMI
/// IOCTLs. Answers are the driver's raw bytes, which <see cref="EmiLayout"/> parses, so tests drive the meter with byte
/// fixtures. Failures throw <see cref="IOException"/> naming the call.
/// </summary>
internal interface IEmiDevices
{
    /// <summary>Device interface paths of GUID_DEVICE_ENERGY_METER that are present.</summary>
    ImmutableArray<string> EnumerateDevicePaths();

    IEmiDevice Open(string path);
}

/// <summary>One open EMI device.</summary>
internal interface IEmiDevice : IDisposable
{
    /// <summary>Sends an IOCTL without input; returns the bytes the driver wrote, at most <paramref name="outputBytes"/>.</summary>
    byte[] Control(uint ioControlCode, int outputBytes);
}
