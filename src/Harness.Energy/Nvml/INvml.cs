namespace Harness.Energy.Nvml;

/// <summary>NVML return codes the meter tells apart (nvml.h <c>nvmlReturn_t</c>); other values pass through as numbers.</summary>
internal enum NvmlReturn
{
    Success = 0,
    Uninitialized = 1,
    InvalidArgument = 2,
    NotSupported = 3,
    NoPermission = 4,
    DriverNotLoaded = 9,
    LibraryNotFound = 12,
    FunctionNotFound = 13,
    GpuIsLost = 15,
    Unknown = 999,
}

/// <summary>
/// The seam between <see cref="NvmlMeter"/> and libnvidia-ml: the few NVML calls the meter makes, devices addressed by
/// index. Tests replay recorded readings through a fake; <see cref="NvmlLibrary"/> makes the real calls.
/// </summary>
internal interface INvml
{
    NvmlReturn Init();

    NvmlReturn Shutdown();

    NvmlReturn GetDeviceCount(out uint count);

    NvmlReturn GetDeviceName(uint index, out string name);

    /// <summary>Millijoules since the driver was loaded (Volta and newer; <see cref="NvmlReturn.NotSupported"/> before).</summary>
    NvmlReturn GetTotalEnergyConsumption(uint index, out ulong millijoules);

    /// <summary>Board power draw in milliwatts.</summary>
    NvmlReturn GetPowerUsage(uint index, out uint milliwatts);

    string ErrorString(NvmlReturn code);
}
