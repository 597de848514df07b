using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Harness.Energy.Windows;

/// <summary>EMI devices through SetupAPI and DeviceIoControl. Windows only: <see cref="EmiMeter"/> never creates it elsewhere.</summary>
[SupportedOSPlatform("windows")]
internal sealed partial class EmiNative : IEmiDevices
{
    // GUID_DEVICE_ENERGY_METER in emi.h.
    private static readonly Guid EnergyMeterInterface = new("45bd8344-7ed6-49cf-a440-c276c933b053");

    private const uint DigcfPresent = 0x02;
    private const uint DigcfDeviceInterface = 0x10;
    private const uint GenericRead = 0x8000_0000;
    private const uint FileShareReadWrite = 0x1 | 0x2;
    private const uint OpenExisting = 3;
    private const int ErrorNoMoreItems = 259;

    public ImmutableArray<string> EnumerateDevicePaths()
    {
        var guid = EnergyMeterInterface;
        var set = SetupDiGetClassDevsW(ref guid, IntPtr.Zero, IntPtr.Zero, DigcfPresent | DigcfDeviceInterface);
        if (set == -1)
        {
            throw Failure("SetupDiGetClassDevsW(GUID_DEVICE_ENERGY_METER)");
        }

        try
        {
            var paths = ImmutableArray.CreateBuilder<string>();
            for (uint index = 0; ; index++)
            {
                var data = new DeviceInterfaceData { Size = (uint)Marshal.SizeOf<DeviceInterfaceData>() };
                if (!SetupDiEnumDeviceInterfaces(set, IntPtr.Zero, ref guid, index, ref data))
                {
                    return Marshal.GetLastPInvokeError() == ErrorNoMoreItems
                        ? paths.ToImmutable()
                        : throw Failure("SetupDiEnumDeviceInterfaces");
                }

                paths.Add(DevicePath(set, ref data));
            }
        }
        finally
        {
            SetupDiDestroyDeviceInfoList(set);
        }
    }

    public IEmiDevice Open(string path)
    {
        var handle = CreateFileW(path, GenericRead, FileShareReadWrite, IntPtr.Zero, OpenExisting, 0, IntPtr.Zero);
        if (handle.IsInvalid)
        {
            var failure = Failure($"CreateFileW({path})");
            handle.Dispose();
            throw failure;
        }

        return new Device(handle);
    }

    private static string DevicePath(IntPtr set, ref DeviceInterfaceData data)
    {
        // The first call fails on purpose and says how large the detail structure is.
        SetupDiGetDeviceInterfaceDetailW(set, ref data, IntPtr.Zero, 0, out var required, IntPtr.Zero);
        if (required == 0)
        {
            throw Failure("SetupDiGetDeviceInterfaceDetailW");
        }

        var buffer = Marshal.AllocHGlobal((int)required);
        try
        {
            // SP_DEVICE_INTERFACE_DETAIL_DATA_W.cbSize is the size of its fixed part (a DWORD and one WCHAR): 8 with the
            // 64-bit packing, 6 with the 1-byte packing setupapi.h uses on 32-bit. The path starts after the DWORD.
            Marshal.WriteInt32(buffer, IntPtr.Size == 8 ? 8 : 6);
            if (!SetupDiGetDeviceInterfaceDetailW(set, ref data, buffer, required, out _, IntPtr.Zero))
            {
                throw Failure("SetupDiGetDeviceInterfaceDetailW");
            }

            return Marshal.PtrToStringUni(buffer + sizeof(uint)) ?? "";
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    private static IOException Failure(string call)
    {
        var error = Marshal.GetLastPInvokeError();
        return new IOException($"{call} failed: {Marshal.GetPInvokeErrorMessage(error)} (Win32 error {error})");
    }

    private sealed class Device(SafeFileHandle handle) : IEmiDevice
    {
        public unsafe byte[] Control(uint ioControlCode, int outputBytes)
        {
            var buffer = new byte[outputBytes];
            fixed (byte* output = buffer)
            {
                if (!DeviceIoControl(handle, ioControlCode, null, 0, output, (uint)outputBytes, out var returned, IntPtr.Zero))
                {
                    throw Failure($"DeviceIoControl(0x{ioControlCode:X8})");
                }

                return buffer[..(int)returned];
            }
        }

        public void Dispose() => handle.Dispose();
    }

    // SP_DEVICE_INTERFACE_DATA: 32 bytes on 64-bit, 28 on 32-bit.
    [StructLayout(LayoutKind.Sequential)]
    private struct DeviceInterfaceData
    {
        public uint Size;
        public Guid InterfaceClassGuid;
        public uint Flags;
        public nuint Reserved;
    }

    [LibraryImport("setupapi.dll", SetLastError = true)]
    private static partial IntPtr SetupDiGetClassDevsW(ref Guid classGuid, IntPtr enumerator, IntPtr parent, uint flags);

    [LibraryImport("setupapi.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetupDiEnumDeviceInterfaces(
        IntPtr deviceInfoSet, IntPtr deviceInfoData, ref Guid interfaceClassGuid, uint memberIndex, ref DeviceInterfaceData deviceInterfaceData);

    [LibraryImport("setupapi.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetupDiGetDeviceInterfaceDetailW(
        IntPtr deviceInfoSet, ref DeviceInterfaceData deviceInterfaceData, IntPtr detail, uint detailSize, out uint requiredSize, IntPtr deviceInfoData);

    [LibraryImport("setupapi.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool SetupDiDestroyDeviceInfoList(IntPtr deviceInfoSet);

    [LibraryImport("kernel32.dll", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
    private static partial SafeFileHandle CreateFileW(
        string fileName, uint desiredAccess, uint shareMode, IntPtr securityAttributes, uint creationDisposition, uint flags, IntPtr template);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static unsafe partial bool DeviceIoControl(
        SafeFileHandle device, uint ioControlCode, void* input, uint inputSize, byte* output, uint outputSize, out uint bytesReturned, IntPtr overlapped);
}
