using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace Harness.Energy.Windows;

/// <summary>A channel as the device's metadata names it; <paramref name="Unit"/> 0 is picowatt-hours, the only unit defined.</summary>
internal sealed record EmiChannelInfo(string Name, uint Unit);

internal sealed record EmiMetadata(ushort Version, string Oem, string Model, ushort Revision, ImmutableArray<EmiChannelInfo> Channels);

/// <summary>One channel's <c>EMI_CHANNEL_MEASUREMENT_DATA</c>.</summary>
internal readonly record struct EmiMeasurement(ulong PicowattHours, ulong Time100Nanoseconds);

/// <summary>
/// The byte layout of emi.h (Windows SDK, <c>um/emi.h</c>), read little-endian. Offsets follow the C layout: WCHAR
/// arrays are 2-byte aligned, the measurement unit enum is 4 bytes, and V2 channels follow each other without padding
/// (<c>EMI_CHANNEL_V2_NEXT_CHANNEL</c> advances by 6 bytes plus <c>ChannelNameSize</c>).
/// </summary>
internal static class EmiLayout
{
    // CTL_CODE(FILE_DEVICE_UNKNOWN 0x22, function, METHOD_BUFFERED 0, FILE_READ_ACCESS 1) = 0x22 << 16 | 1 << 14 | function << 2.
    public const uint IoctlGetVersion = 0x0022_4000;
    public const uint IoctlGetMetadataSize = 0x0022_4004;
    public const uint IoctlGetMetadata = 0x0022_4008;
    public const uint IoctlGetMeasurement = 0x0022_400C;

    public const ushort Version1 = 1;
    public const ushort Version2 = 2;
    public const uint UnitPicowattHours = 0;

    public const int VersionBytes = 2;
    public const int MetadataSizeBytes = 4;
    public const int MeasurementBytes = 16;

    /// <summary>1 pWh = 1e-12 W x 3600 s.</summary>
    public const double JoulesPerPicowattHour = 3.6e-9;

    private const int NameBytes = 16 * sizeof(char);

    // EMI_METADATA_V1: MeasurementUnit, HardwareOEM[16], HardwareModel[16], HardwareRevision, MeteredHardwareNameSize, MeteredHardwareName[].
    private const int V1Oem = 4;
    private const int V1Model = V1Oem + NameBytes;
    private const int V1Revision = V1Model + NameBytes;
    private const int V1NameSize = V1Revision + 2;
    private const int V1Name = V1NameSize + 2;

    // EMI_METADATA_V2: HardwareOEM[16], HardwareModel[16], HardwareRevision, ChannelCount, Channels[].
    private const int V2Model = NameBytes;
    private const int V2Revision = V2Model + NameBytes;
    private const int V2ChannelCount = V2Revision + 2;
    private const int V2Channels = V2ChannelCount + 2;

    // EMI_CHANNEL_V2: MeasurementUnit, ChannelNameSize, ChannelName[].
    private const int ChannelNameOffset = 6;

    public static ushort ParseVersion(ReadOnlySpan<byte> bytes) =>
        BinaryPrimitives.ReadUInt16LittleEndian(Require(bytes, 0, VersionBytes, "EMI_VERSION"));

    public static uint ParseMetadataSize(ReadOnlySpan<byte> bytes) =>
        BinaryPrimitives.ReadUInt32LittleEndian(Require(bytes, 0, MetadataSizeBytes, "EMI_METADATA_SIZE"));

    /// <exception cref="InvalidDataException">The bytes are shorter than the layout says or the version is unknown.</exception>
    public static EmiMetadata ParseMetadata(ushort version, ReadOnlySpan<byte> bytes) => version switch
    {
        Version1 => ParseV1(bytes),
        Version2 => ParseV2(bytes),
        _ => throw new InvalidDataException($"EMI version {version} is not supported (only 1 and 2)"),
    };

    /// <summary>One measurement per channel: V1 devices have one, V2 devices one per metadata channel, in order.</summary>
    public static ImmutableArray<EmiMeasurement> ParseMeasurements(ReadOnlySpan<byte> bytes, int channels)
    {
        var all = Require(bytes, 0, channels * MeasurementBytes, "EMI measurement data");
        var result = ImmutableArray.CreateBuilder<EmiMeasurement>(channels);
        for (var i = 0; i < channels; i++)
        {
            var one = all.Slice(i * MeasurementBytes, MeasurementBytes);
            result.Add(new EmiMeasurement(
                BinaryPrimitives.ReadUInt64LittleEndian(one),
                BinaryPrimitives.ReadUInt64LittleEndian(one[8..])));
        }

        return result.MoveToImmutable();
    }

    private static EmiMetadata ParseV1(ReadOnlySpan<byte> bytes)
    {
        var unit = BinaryPrimitives.ReadUInt32LittleEndian(Require(bytes, 0, 4, "EMI_METADATA_V1"));
        var nameSize = BinaryPrimitives.ReadUInt16LittleEndian(Require(bytes, V1NameSize, 2, "EMI_METADATA_V1"));
        var name = Text(Require(bytes, V1Name, nameSize, "EMI_METADATA_V1 MeteredHardwareName"));
        return new EmiMetadata(
            Version1,
            Text(bytes.Slice(V1Oem, NameBytes)),
            Text(bytes.Slice(V1Model, NameBytes)),
            BinaryPrimitives.ReadUInt16LittleEndian(bytes[V1Revision..]),
            [new EmiChannelInfo(name, unit)]);
    }

    private static EmiMetadata ParseV2(ReadOnlySpan<byte> bytes)
    {
        var count = BinaryPrimitives.ReadUInt16LittleEndian(Require(bytes, V2ChannelCount, 2, "EMI_METADATA_V2"));
        var channels = ImmutableArray.CreateBuilder<EmiChannelInfo>(count);
        var offset = V2Channels;
        for (var i = 0; i < count; i++)
        {
            var head = Require(bytes, offset, ChannelNameOffset, "EMI_CHANNEL_V2");
            var unit = BinaryPrimitives.ReadUInt32LittleEndian(head);
            var nameSize = BinaryPrimitives.ReadUInt16LittleEndian(head[4..]);
            var name = Text(Require(bytes, offset + ChannelNameOffset, nameSize, "EMI_CHANNEL_V2 ChannelName"));
            channels.Add(new EmiChannelInfo(name, unit));
            offset += ChannelNameOffset + nameSize;
        }

        return new EmiMetadata(
            Version2,
            Text(bytes[..NameBytes]),
            Text(bytes.Slice(V2Model, NameBytes)),
            BinaryPrimitives.ReadUInt16LittleEndian(bytes[V2Revision..]),
            channels.MoveToImmutable());
    }

    private static ReadOnlySpan<byte> Require(ReadOnlySpan<byte> bytes, int offset, int length, string what) =>
        offset + length <= bytes.Length
            ? bytes.Slice(offset, length)
            : throw new InvalidDataException($"{what}: the driver returned {bytes.Length} bytes, the layout needs {offset + length}");

    // UTF-16LE up to the terminator; drivers pad the fixed-size fields with zeros or spaces.
    private static string Text(ReadOnlySpan<byte> utf16)
    {
        var text = Encoding.Unicode.GetString(utf16[..(utf16.Length & ~1)]);
        var end = text.IndexOf('\0', StringComparison.Ordinal);
        return (end < 0 ? text : text[..end]).Trim();
    }
}
