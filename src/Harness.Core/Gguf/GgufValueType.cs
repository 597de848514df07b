namespace Harness.Core.Gguf;

// The names are the GGUF specification's own type names, which readers of the format look for.
#pragma warning disable CA1720

/// <summary>The metadata value types of the GGUF format, by their on-disk id.</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}
#pragma warning restore CA1720
