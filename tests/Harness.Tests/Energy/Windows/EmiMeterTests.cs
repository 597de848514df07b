using System.Collections.Immutable;
using System.Text;
using Harness.Core.Energy;
using Harness.Energy.Windows;

namespace Harness.Tests.Energy.Windows;

public sealed class EmiMeterTests
{
    private const string RaplV2 = @"\\?\ACPI#INTC1040#0#{45bd8344-7ed6-49cf-a440-c276c933b053}";

    [Fact]
    public void V1_metadata_and_measurement_parse_from_the_documented_layout()
    {
        var bytes = MetadataV1("Contoso", "Meter 7", revision: 3, name: "SoC");

        // MeasurementUnit 4 + HardwareOEM 32 + HardwareModel 32 + revision 2 + name size 2, then "SoC\0" in UTF-16.
        Assert.Equal(72 + 8, bytes.Length);
        var metadata = EmiLayout.ParseMetadata(EmiLayout.Version1, bytes);
        Assert.Equal(new EmiMetadata(1, "Contoso", "Meter 7", 3, metadata.Channels), metadata);
        Assert.Equal([new EmiChannelInfo("SoC", 0)], metadata.Channels.ToArray());

        var measurement = Assert.Single(EmiLayout.ParseMeasurements(Measurements((123_456_789_012, 987_654_321)), 1));
        Assert.Equal(new EmiMeasurement(123_456_789_012, 987_654_321), measurement);
    }

    [Fact]
    public void V2_metadata_walks_variable_length_channels()
    {
        var bytes = MetadataV2("Intel", "RAPL_Driver", 1, "RAPL_Package0_PKG", "RAPL_Package0_PP0", "X", "RAPL_Package0_DRAM");

        // Header 68 bytes; each channel 6 bytes plus its UTF-16 name with terminator.
        Assert.Equal(68 + (6 + 36) + (6 + 36) + (6 + 4) + (6 + 38), bytes.Length);
        var metadata = EmiLayout.ParseMetadata(EmiLayout.Version2, bytes);
        Assert.Equal(("Intel", "RAPL_Driver", (ushort)1), (metadata.Oem, metadata.Model, metadata.Revision));
        Assert.Equal(["RAPL_Package0_PKG", "RAPL_Package0_PP0", "X", "RAPL_Package0_DRAM"], metadata.Channels.Select(c => c.Name));

        var measurements = EmiLayout.ParseMeasurements(Measurements((1, 10), (2, 20), (3, 30), (4, 40)), 4);
        Assert.Equal([1UL, 2, 3, 4], measurements.Select(m => m.PicowattHours));
        Assert.Equal([10UL, 20, 30, 40], measurements.Select(m => m.Time100Nanoseconds));
    }

    [Fact]
    public void Truncated_or_unknown_metadata_is_rejected()
    {
        var bytes = MetadataV2("Intel", "RAPL_Driver", 1, "RAPL_Package0_PKG");

        Assert.Throws<InvalidDataException>(() => EmiLayout.ParseMetadata(EmiLayout.Version2, bytes.AsSpan(0, bytes.Length - 2)));
        Assert.Throws<InvalidDataException>(() => EmiLayout.ParseMetadata(3, bytes));
        Assert.Throws<InvalidDataException>(() => EmiLayout.ParseMeasurements(new byte[16], 2));
    }

    [Theory]
    [InlineData("RAPL_Package0_PKG", EnergyDomain.Package)]
    [InlineData("RAPL_Package0_DRAM", EnergyDomain.Dram)]
    [InlineData("RAPL_Package0_PP0", EnergyDomain.Cpu)]
    [InlineData("RAPL_Package0_PP1", EnergyDomain.Gpu)]
    [InlineData("RAPL_Package0_PSYS", EnergyDomain.System)]
    [InlineData("CPU Cores", EnergyDomain.Cpu)]
    [InlineData("GPU", EnergyDomain.Gpu)]
    [InlineData("Package0", null)]
    [InlineData("Modem", null)]
    public void Channel_names_map_to_domains_by_token(string name, EnergyDomain? domain) =>
        Assert.Equal(domain, EmiChannels.DomainOf(name));

    [Fact]
    public void Packages_and_dram_are_counted_and_what_is_inside_them_is_left_out()
    {
        var choices = EmiChannels.Choose([Channels("RAPL_Package0_PKG", "RAPL_Package0_PP0", "RAPL_Package0_PP1", "RAPL_Package0_DRAM", "RAPL_Package0_PSYS", "Modem")]);

        Assert.Equal(
            [
                "RAPL_Package0_PKG: counted",
                "RAPL_Package0_PP0: inside the package",
                "RAPL_Package0_PP1: inside the package",
                "RAPL_Package0_DRAM: counted",
                "RAPL_Package0_PSYS: covers the packages",
                "Modem: unknown domain",
            ],
            choices.Select(c => $"{c.Name}: {c.LeftOutBecause ?? "counted"}"));
    }

    [Fact]
    public void Without_packages_psys_alone_is_counted_and_without_either_the_parts_are()
    {
        var withPsys = EmiChannels.Choose([Channels("RAPL_PSYS", "RAPL_PP0", "RAPL_DRAM")]);
        Assert.Equal(["RAPL_PSYS"], withPsys.Where(c => c.Counted).Select(c => c.Name));

        var parts = EmiChannels.Choose([Channels("CPU_CORES"), Channels("GPU", "DRAM")]);
        Assert.Equal([(0, 0), (1, 0), (1, 1)], parts.Where(c => c.Counted).Select(c => (c.Device, c.Index)));
    }

    [Fact]
    public void Reads_convert_picowatt_hours_to_joules_since_open()
    {
        var device = new FakeDevice(EmiLayout.Version2, MetadataV2("Intel", "RAPL_Driver", 1, "RAPL_Package0_PKG", "RAPL_Package0_PP0", "RAPL_Package0_DRAM"))
        {
            Measurement = Measurements((5_000_000_000_000, 100), (4_000_000_000_000, 100), (2_000_000_000_000, 100)),
        };
        using var counter = new EmiMeter(new FakeEmi((RaplV2, device))).Open();

        EnergyChannel[] channels = [new("RAPL_Package0_PKG", EnergyDomain.Package), new("RAPL_Package0_DRAM", EnergyDomain.Dram)];
        Assert.Equal(channels, counter.Channels.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(10), counter.MaxReadInterval);

        // 1e9 pWh = 1 mWh = 3.6 J; 2.5e8 pWh = 0.9 J. PP0 moves too but is inside the package.
        device.Measurement = Measurements((5_001_000_000_000, 200), (4_000_900_000_000, 200), (2_000_250_000_000, 200));
        var joules = counter.Read();
        Assert.Equal(3.6, joules[0], 1e-9);
        Assert.Equal(0.9, joules[1], 1e-9);
    }

    [Fact]
    public void Probe_lists_devices_and_channels_and_closes_the_devices()
    {
        var device = new FakeDevice(EmiLayout.Version2, MetadataV2("Intel", "RAPL_Driver", 1, "RAPL_Package0_PKG", "RAPL_Package0_PP0"));
        var probe = new EmiMeter(new FakeEmi((RaplV2, device))).Probe();

        Assert.True(probe.Usable);
        Assert.Equal("emi", probe.Source);
        Assert.Equal(EnergyQuality.Measured, probe.Quality);
        Assert.Equal("Energy Meter Interface: RAPL_Package0_PKG (Package)", probe.Scope);
        Assert.Equal(
            "emi-0 Intel RAPL_Driver rev 1 (EMI v2): RAPL_Package0_PKG counted as Package, RAPL_Package0_PP0 left out (inside the package)",
            probe.Detail);
        Assert.Equal(3.6e-9, probe.ResolutionJoules);
        Assert.True(device.Disposed);
    }

    [Fact]
    public void Unreadable_device_is_skipped_with_the_reason()
    {
        var broken = new FakeDevice(EmiLayout.Version2, MetadataV2("Intel", "RAPL_Driver", 1, "RAPL_Package0_PKG")[..70]);
        var good = new FakeDevice(EmiLayout.Version1, MetadataV1("Contoso", "Meter", 2, "SoC GPU"));

        var probe = new EmiMeter(new FakeEmi(("broken", broken), ("good", good))).Probe();

        Assert.True(probe.Usable);
        Assert.StartsWith("emi-0 Contoso Meter rev 2 (EMI v1): SoC GPU counted as Gpu; skipped broken: EMI_CHANNEL_V2", probe.Detail, StringComparison.Ordinal);
        Assert.True(broken.Disposed);
    }

    [Fact]
    public void Not_windows_is_unusable_and_says_why()
    {
        var meter = new EmiMeter(null);

        var probe = meter.Probe();
        Assert.False(probe.Usable);
        Assert.Equal("emi", probe.Source);
        Assert.Contains("is a Windows interface", probe.Detail, StringComparison.Ordinal);
        Assert.Throws<EnergyMeterException>(meter.Open);

        if (!OperatingSystem.IsWindows())
        {
            Assert.False(new EmiMeter().Probe().Usable);
        }
    }

    [Fact]
    public void No_device_is_unusable()
    {
        var meter = new EmiMeter(new FakeEmi());

        var probe = meter.Probe();
        Assert.False(probe.Usable);
        Assert.Equal(
            "no Energy Meter Interface device (needs Windows 10 1809+ and a driver that exposes one; Intel RAPL machines usually do)",
            probe.Detail);
        Assert.Throws<EnergyMeterException>(meter.Open);
    }

    [Fact]
    public void Read_error_names_the_device_and_dispose_closes_it()
    {
        var device = new FakeDevice(EmiLayout.Version1, MetadataV1("Contoso", "Meter", 2, "RAPL_Package0_PKG")) { Measurement = Measurements((1, 1)) };
        var counter = new EmiMeter(new FakeEmi(("meter", device))).Open();

        device.MeasurementError = new IOException("DeviceIoControl(0x0022400C) failed: The device is not ready. (Win32 error 21)");
        var error = Assert.Throws<EnergyMeterException>(() => counter.Read());
        Assert.Equal(
            "emi: IOCTL_EMI_GET_MEASUREMENT on emi-0 Contoso Meter rev 2 (EMI v1): DeviceIoControl(0x0022400C) failed: The device is not ready. (Win32 error 21)",
            error.Message);

        counter.Dispose();
        Assert.True(device.Disposed);
    }

    private static ImmutableArray<EmiChannelInfo> Channels(params string[] names) => [.. names.Select(n => new EmiChannelInfo(n, 0))];

    private static byte[] MetadataV1(string oem, string model, ushort revision, string name)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write(EmiLayout.UnitPicowattHours);
        WriteFixed(writer, oem);
        WriteFixed(writer, model);
        writer.Write(revision);
        WriteSized(writer, name);
        return stream.ToArray();
    }

    private static byte[] MetadataV2(string oem, string model, ushort revision, params string[] channels)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        WriteFixed(writer, oem);
        WriteFixed(writer, model);
        writer.Write(revision);
        writer.Write((ushort)channels.Length);
        foreach (var channel in channels)
        {
            writer.Write(EmiLayout.UnitPicowattHours);
            WriteSized(writer, channel);
        }

        return stream.ToArray();
    }

    private static byte[] Measurements(params (ulong PicowattHours, ulong Time)[] channels)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        foreach (var (picowattHours, time) in channels)
        {
            writer.Write(picowattHours);
            writer.Write(time);
        }

        return stream.ToArray();
    }

    // WCHAR[EMI_NAME_MAX]: 16 UTF-16 units, zero-padded.
    private static void WriteFixed(BinaryWriter writer, string text)
    {
        var bytes = new byte[32];
        Encoding.Unicode.GetBytes(text, bytes);
        writer.Write(bytes);
    }

    // A USHORT byte count including the terminator, then the UTF-16 string and its terminator.
    private static void WriteSized(BinaryWriter writer, string text)
    {
        var bytes = Encoding.Unicode.GetBytes(text + "\0");
        writer.Write((ushort)bytes.Length);
        writer.Write(bytes);
    }

    private sealed class FakeEmi(params (string Path, FakeDevice Device)[] devices) : IEmiDevices
    {
        public ImmutableArray<string> EnumerateDevicePaths() => [.. devices.Select(d => d.Path)];

        public IEmiDevice Open(string path) => devices.Single(d => d.Path == path).Device;
    }

    private sealed class FakeDevice(ushort version, byte[] metadata) : IEmiDevice
    {
        public byte[] Measurement { get; set; } = [];

        public IOException? MeasurementError { get; set; }

        public bool Disposed { get; private set; }

        public byte[] Control(uint ioControlCode, int outputBytes)
        {
            Assert.False(Disposed);
            var answer = ioControlCode switch
            {
                EmiLayout.IoctlGetVersion => BitConverter.GetBytes(version),
                EmiLayout.IoctlGetMetadataSize => BitConverter.GetBytes((uint)metadata.Length),
                EmiLayout.IoctlGetMetadata => metadata,
                EmiLayout.IoctlGetMeasurement => MeasurementError is null ? Measurement : throw MeasurementError,
                _ => throw new IOException($"unexpected IOCTL 0x{ioControlCode:X8}"),
            };
            return answer[..Math.Min(answer.Length, outputBytes)];
        }

        public void Dispose() => Disposed = true;
    }
}
