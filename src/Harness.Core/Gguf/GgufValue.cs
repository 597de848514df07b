using System.Collections;
using System.Collections.Immutable;
using System.Globalization;

namespace Harness.Core.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar, or an array whose elements share one type (arrays of arrays hold
/// <see cref="GgufValue"/> elements, each with its own element type). Equality is structural.
/// </summary>
public sealed record GgufValue
{
    private readonly object _payload;

    private GgufValue(GgufValueType type, GgufValueType? elementType, object payload)
    {
        Type = type;
        ElementType = elementType;
        _payload = payload;
    }

    public GgufValueType Type { get; }

    /// <summary>The element type when <see cref="Type"/> is <see cref="GgufValueType.Array"/>, otherwise null.</summary>
    public GgufValueType? ElementType { get; }

    // Factories are named after the GGUF type they write, as in the specification.
#pragma warning disable CA1720
    public static GgufValue UInt8(byte value) => new(GgufValueType.UInt8, null, value);
    public static GgufValue Int8(sbyte value) => new(GgufValueType.Int8, null, value);
    public static GgufValue UInt16(ushort value) => new(GgufValueType.UInt16, null, value);
    public static GgufValue Int16(short value) => new(GgufValueType.Int16, null, value);
    public static GgufValue UInt32(uint value) => new(GgufValueType.UInt32, null, value);
    public static GgufValue Int32(int value) => new(GgufValueType.Int32, null, value);
    public static GgufValue Float32(float value) => new(GgufValueType.Float32, null, value);
    public static GgufValue Bool(bool value) => new(GgufValueType.Bool, null, value);
    public static GgufValue String(string value) => new(GgufValueType.String, null, value ?? throw new ArgumentNullException(nameof(value)));
    public static GgufValue UInt64(ulong value) => new(GgufValueType.UInt64, null, value);
    public static GgufValue Int64(long value) => new(GgufValueType.Int64, null, value);
    public static GgufValue Float64(double value) => new(GgufValueType.Float64, null, value);
#pragma warning restore CA1720

    /// <summary>An array of scalars; <typeparamref name="T"/> decides the element type (byte, sbyte, ushort, short, uint, int, float, bool, string, ulong, long, double).</summary>
    public static GgufValue Array<T>(ImmutableArray<T> items)
    {
        var elementType = ScalarTypeOf(typeof(T));
        if (items.IsDefault)
        {
            throw new ArgumentException("The array is default (uninitialized).", nameof(items));
        }

        if (elementType == GgufValueType.String && items.Any(item => item is null))
        {
            throw new ArgumentException("A string array may not contain null.", nameof(items));
        }

        return new GgufValue(GgufValueType.Array, elementType, items);
    }

    /// <summary>An array whose elements are themselves arrays.</summary>
    public static GgufValue ArrayOfArrays(ImmutableArray<GgufValue> items)
    {
        if (items.IsDefault || items.Any(item => item is null || item.Type != GgufValueType.Array))
        {
            throw new ArgumentException("Every element of an array of arrays must be an array value.", nameof(items));
        }

        return new GgufValue(GgufValueType.Array, GgufValueType.Array, items);
    }

    /// <summary>Number of elements of an array value.</summary>
    /// <exception cref="InvalidOperationException">Not an array.</exception>
    public int Count => ElementType is null ? throw NotA("an array") : ((ICollection)_payload).Count;

    /// <exception cref="InvalidOperationException">Not a string.</exception>
    public string AsString() => _payload as string is { } s && Type == GgufValueType.String ? s : throw NotA("a string");

    /// <exception cref="InvalidOperationException">Not a bool.</exception>
    public bool AsBool() => Type == GgufValueType.Bool ? (bool)_payload : throw NotA("a bool");

    /// <summary>Any integer type, widened.</summary>
    /// <exception cref="InvalidOperationException">Not an integer, or a uint64 above <see cref="long.MaxValue"/>.</exception>
    public long AsInt64() => Type switch
    {
        GgufValueType.UInt8 => (byte)_payload,
        GgufValueType.Int8 => (sbyte)_payload,
        GgufValueType.UInt16 => (ushort)_payload,
        GgufValueType.Int16 => (short)_payload,
        GgufValueType.UInt32 => (uint)_payload,
        GgufValueType.Int32 => (int)_payload,
        GgufValueType.Int64 => (long)_payload,
        GgufValueType.UInt64 when (ulong)_payload <= long.MaxValue => (long)(ulong)_payload,
        _ => throw NotA("an integer that fits in int64"),
    };

    /// <summary>Any numeric type, widened.</summary>
    /// <exception cref="InvalidOperationException">Not a number.</exception>
    public double AsDouble() => Type switch
    {
        GgufValueType.Float32 => (float)_payload,
        GgufValueType.Float64 => (double)_payload,
        GgufValueType.UInt64 => (ulong)_payload,
        _ when IsInteger(Type) => AsInt64(),
        _ => throw NotA("a number"),
    };

    /// <summary>The elements of a scalar array; <typeparamref name="T"/> must match <see cref="ElementType"/> exactly.</summary>
    /// <exception cref="InvalidOperationException">Not an array of <typeparamref name="T"/>.</exception>
    public ImmutableArray<T> AsArray<T>() =>
        _payload is ImmutableArray<T> items && ElementType != GgufValueType.Array
            ? items
            : throw NotA($"an array of {typeof(T).Name}");

    /// <exception cref="InvalidOperationException">Not an array of arrays.</exception>
    public ImmutableArray<GgufValue> AsArrayOfArrays() =>
        ElementType == GgufValueType.Array ? (ImmutableArray<GgufValue>)_payload : throw NotA("an array of arrays");

    public bool Equals(GgufValue? other)
    {
        if (other is null || Type != other.Type || ElementType != other.ElementType)
        {
            return false;
        }

        if (ElementType is null)
        {
            return Equals(_payload, other._payload);
        }

        var left = (IEnumerable)_payload;
        var right = (IEnumerable)other._payload;
        return left.Cast<object>().SequenceEqual(right.Cast<object>());
    }

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Type);
        hash.Add(ElementType);
        if (ElementType is null)
        {
            hash.Add(_payload);
        }
        else
        {
            foreach (var item in ((IEnumerable)_payload).Cast<object>().Take(16))
            {
                hash.Add(item);
            }
        }

        return hash.ToHashCode();
    }

    /// <summary>Short invariant rendering; arrays show their type and length, not their content.</summary>
    public override string ToString() => ElementType switch
    {
        null => _payload switch
        {
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            _ => _payload.ToString() ?? "",
        },
        var element => $"[{element.Value.ToString().ToLowerInvariant()}; {Count.ToString(CultureInfo.InvariantCulture)}]",
    };

    /// <summary>Bytes one element of <paramref name="type"/> takes at least on disk (strings and arrays: their length prefix).</summary>
    internal static int MinimumSizeBytes(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown GGUF value type."),
    };

    internal object Payload => _payload;

    private static bool IsInteger(GgufValueType type) => type is GgufValueType.UInt8 or GgufValueType.Int8
        or GgufValueType.UInt16 or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32
        or GgufValueType.UInt64 or GgufValueType.Int64;

    private static GgufValueType ScalarTypeOf(Type type) =>
        type == typeof(byte) ? GgufValueType.UInt8
        : type == typeof(sbyte) ? GgufValueType.Int8
        : type == typeof(ushort) ? GgufValueType.UInt16
        : type == typeof(short) ? GgufValueType.Int16
        : type == typeof(uint) ? GgufValueType.UInt32
        : type == typeof(int) ? GgufValueType.Int32
        : type == typeof(float) ? GgufValueType.Float32
        : type == typeof(bool) ? GgufValueType.Bool
        : type == typeof(string) ? GgufValueType.String
        : type == typeof(ulong) ? GgufValueType.UInt64
        : type == typeof(long) ? GgufValueType.Int64
        : type == typeof(double) ? GgufValueType.Float64
        : throw new ArgumentException($"{type.Name} is not a GGUF scalar type.", nameof(type));

    private InvalidOperationException NotA(string what) =>
        new($"The GGUF value is {(ElementType is { } e ? $"an array of {e}" : Type.ToString())}, not {what}.");
}
