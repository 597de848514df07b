using System.Collections.Immutable;

namespace Harness.Forge.Onnx;

// Members are named after onnx.proto's enum values.
#pragma warning disable CA1720

/// <summary>ONNX <c>TensorProto.DataType</c> values used here (onnx.proto numbers them).</summary>
public enum OnnxDataType
{
    Float = 1,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
}

/// <summary>
/// A constant tensor (an initializer, or a node attribute's value) stored as little-endian <c>raw_data</c>. The factories
/// copy the host's bytes, so <see cref="OnnxProtoWriter"/> refuses big-endian hosts.
/// </summary>
public sealed record OnnxTensor(string Name, OnnxDataType Type, ImmutableArray<long> Dimensions, ReadOnlyMemory<byte> RawData)
{
    public static OnnxTensor Floats(string name, ImmutableArray<long> dimensions, ReadOnlySpan<float> values) =>
        new(name, OnnxDataType.Float, dimensions, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxTensor Int64s(string name, ImmutableArray<long> dimensions, ReadOnlySpan<long> values) =>
        new(name, OnnxDataType.Int64, dimensions, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());
}

/// <summary>One node attribute (<c>AttributeProto</c>; "Attr" because CA1711 reserves the suffix Attribute for .NET attributes); exactly one of the value members is set, as <see cref="Kind"/> says.</summary>
public sealed record OnnxAttr(string Name, OnnxAttrKind Kind, long IntValue = 0, float FloatValue = 0, ImmutableArray<long> IntsValue = default, OnnxTensor? TensorValue = null)
{
    public static OnnxAttr Of(string name, long value) => new(name, OnnxAttrKind.Int, IntValue: value);

    public static OnnxAttr Of(string name, float value) => new(name, OnnxAttrKind.Float, FloatValue: value);

    public static OnnxAttr Of(string name, ImmutableArray<long> values) => new(name, OnnxAttrKind.Ints, IntsValue: values);

    public static OnnxAttr Of(string name, OnnxTensor value) => new(name, OnnxAttrKind.Tensor, TensorValue: value);
}

/// <summary><c>AttributeProto.AttributeType</c> values used here.</summary>
public enum OnnxAttrKind
{
    Float = 1,
    Int = 2,
    Tensor = 4,
    Ints = 7,
}
#pragma warning restore CA1720

public sealed record OnnxNode(string Name, string OpType, ImmutableArray<string> Inputs, ImmutableArray<string> Outputs, ImmutableArray<OnnxAttr> Attributes);

/// <summary>A graph input or output: element type and shape, each dimension a size or a symbolic name.</summary>
/// <param name="Dimensions">Per dimension: a <see cref="long"/> size or a <see cref="string"/> symbol (<c>dim_param</c>).</param>
public sealed record OnnxValueInfo(string Name, OnnxDataType Type, ImmutableArray<object> Dimensions);

public sealed record OnnxGraph(
    string Name,
    ImmutableArray<OnnxNode> Nodes,
    ImmutableArray<OnnxTensor> Initializers,
    ImmutableArray<OnnxValueInfo> Inputs,
    ImmutableArray<OnnxValueInfo> Outputs);

/// <param name="IrVersion">The ONNX IR version (8 goes with opset 17).</param>
/// <param name="OpsetVersion">The default (<c>ai.onnx</c>) domain's operator set.</param>
/// <param name="Metadata"><c>metadata_props</c>: provenance, e.g. the GGUF the weights came from.</param>
public sealed record OnnxModel(
    long IrVersion,
    long OpsetVersion,
    string ProducerName,
    string ProducerVersion,
    OnnxGraph Graph,
    ImmutableArray<KeyValuePair<string, string>> Metadata);
