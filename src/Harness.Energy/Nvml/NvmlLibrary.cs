using System.Runtime.InteropServices;
using System.Text;

namespace Harness.Energy.Nvml;

/// <summary>
/// libnvidia-ml bound at run time: the library is looked up with <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/>
/// and each function with <see cref="NativeLibrary.TryGetExport"/>, so a machine without the driver never fails at type
/// load. A function the installed driver lacks answers <see cref="NvmlReturn.FunctionNotFound"/>.
/// </summary>
internal sealed unsafe class NvmlLibrary : INvml
{
    // nvml.h: NVML_DEVICE_NAME_V2_BUFFER_SIZE.
    private const int NameBufferBytes = 96;

    // The library stays loaded for the life of the process: NVML starts driver threads that must not outlive its code.
    private readonly delegate* unmanaged<NvmlReturn> init;
    private readonly delegate* unmanaged<NvmlReturn> shutdown;
    private readonly delegate* unmanaged<uint*, NvmlReturn> getCount;
    private readonly delegate* unmanaged<uint, IntPtr*, NvmlReturn> getHandleByIndex;
    private readonly delegate* unmanaged<IntPtr, byte*, uint, NvmlReturn> getName;
    private readonly delegate* unmanaged<IntPtr, ulong*, NvmlReturn> getTotalEnergy;
    private readonly delegate* unmanaged<IntPtr, uint*, NvmlReturn> getPowerUsage;
    private readonly delegate* unmanaged<NvmlReturn, byte*> errorString;

    private NvmlLibrary(IntPtr library)
    {
        init = (delegate* unmanaged<NvmlReturn>)Export(library, "nvmlInit_v2");
        shutdown = (delegate* unmanaged<NvmlReturn>)Export(library, "nvmlShutdown");
        getCount = (delegate* unmanaged<uint*, NvmlReturn>)Export(library, "nvmlDeviceGetCount_v2");
        getHandleByIndex = (delegate* unmanaged<uint, IntPtr*, NvmlReturn>)Export(library, "nvmlDeviceGetHandleByIndex_v2");
        getName = (delegate* unmanaged<IntPtr, byte*, uint, NvmlReturn>)Export(library, "nvmlDeviceGetName");
        getTotalEnergy = (delegate* unmanaged<IntPtr, ulong*, NvmlReturn>)Export(library, "nvmlDeviceGetTotalEnergyConsumption");
        getPowerUsage = (delegate* unmanaged<IntPtr, uint*, NvmlReturn>)Export(library, "nvmlDeviceGetPowerUsage");
        errorString = (delegate* unmanaged<NvmlReturn, byte*>)Export(library, "nvmlErrorString");
    }

    /// <summary>The file the driver installs: what the probe names when it is missing.</summary>
    public static string FileName => OperatingSystem.IsWindows() ? "nvml.dll" : "libnvidia-ml.so.1";

    /// <summary>Loads the driver's NVML library; null when this machine has none.</summary>
    public static NvmlLibrary? TryLoad()
    {
        if (NativeLibrary.TryLoad(FileName, out var library))
        {
            return new NvmlLibrary(library);
        }

        // Drivers before R418 put nvml.dll in the NVSMI folder instead of System32.
        if (OperatingSystem.IsWindows())
        {
            var nvsmi = Path.Combine(
                System.Environment.GetFolderPath(System.Environment.SpecialFolder.ProgramFiles), "NVIDIA Corporation", "NVSMI", FileName);
            if (NativeLibrary.TryLoad(nvsmi, out library))
            {
                return new NvmlLibrary(library);
            }
        }

        return null;
    }

    public NvmlReturn Init() => init == null ? NvmlReturn.FunctionNotFound : init();

    public NvmlReturn Shutdown() => shutdown == null ? NvmlReturn.FunctionNotFound : shutdown();

    public NvmlReturn GetDeviceCount(out uint count)
    {
        count = 0;
        if (getCount == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        fixed (uint* p = &count)
        {
            return getCount(p);
        }
    }

    public NvmlReturn GetDeviceName(uint index, out string name)
    {
        name = "";
        var code = Handle(index, out var device);
        if (code != NvmlReturn.Success)
        {
            return code;
        }

        if (getName == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        var buffer = stackalloc byte[NameBufferBytes];
        code = getName(device, buffer, NameBufferBytes);
        if (code == NvmlReturn.Success)
        {
            var span = new ReadOnlySpan<byte>(buffer, NameBufferBytes);
            var end = span.IndexOf((byte)0);
            name = Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
        }

        return code;
    }

    public NvmlReturn GetTotalEnergyConsumption(uint index, out ulong millijoules)
    {
        millijoules = 0;
        var code = Handle(index, out var device);
        if (code != NvmlReturn.Success)
        {
            return code;
        }

        if (getTotalEnergy == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        fixed (ulong* p = &millijoules)
        {
            return getTotalEnergy(device, p);
        }
    }

    public NvmlReturn GetPowerUsage(uint index, out uint milliwatts)
    {
        milliwatts = 0;
        var code = Handle(index, out var device);
        if (code != NvmlReturn.Success)
        {
            return code;
        }

        if (getPowerUsage == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        fixed (uint* p = &milliwatts)
        {
            return getPowerUsage(device, p);
        }
    }

    public string ErrorString(NvmlReturn code)
    {
        var text = errorString == null ? null : Marshal.PtrToStringUTF8((IntPtr)errorString(code));
        return string.IsNullOrEmpty(text) ? code.ToString() : text;
    }

    private static IntPtr Export(IntPtr library, string name) =>
        NativeLibrary.TryGetExport(library, name, out var address) ? address : IntPtr.Zero;

    // Handles are looked up on every call rather than cached: the lookup is a table read in the library, and a cached
    // handle would outlive an nvmlShutdown.
    private NvmlReturn Handle(uint index, out IntPtr device)
    {
        device = IntPtr.Zero;
        if (getHandleByIndex == null)
        {
            return NvmlReturn.FunctionNotFound;
        }

        fixed (IntPtr* p = &device)
        {
            return getHandleByIndex(index, p);
        }
    }
}
