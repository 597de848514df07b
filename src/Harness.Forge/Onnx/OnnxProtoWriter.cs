using Google.Protobuf;

namespace Harness.Forge.Onnx;

/// <summary>
/// Serializes an <see cref="OnnxModel"/> as an ONNX <c>ModelProto</c> with protobuf's <see cref="CodedOutputStream"/>.
/// Only the messages and fields the exporter needs are written; the field numbers are those of onnx.proto
/// (github.com/onnx/onnx, onnx/onnx.proto), which are frozen by the format's compatibility rules. Each nested
/// message is serialized on its own first, because protobuf prefixes a message field with its byte length.
/// </summary>
public static class OnnxProtoWriter
{
    // ModelProto
    private const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelGraph = 7, ModelOpsetImport = 8, ModelMetadataProps = 14;

    // OperatorSetIdProto, StringStringEntryProto
    private const int OpsetDomain = 1, OpsetVersion = 2, EntryKey = 1, EntryValue = 2;

    // GraphProto
    private const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;

    // NodeProto
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;

    // AttributeProto
    private const int AttributeName = 1, AttributeFloat = 2, AttributeInt = 3, AttributeTensor = 5, AttributeInts = 8, AttributeType = 20;

    // TensorProto
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;

    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
    private const int ValueInfoName = 1, ValueInfoType = 2, TypeTensorType = 1, TensorTypeElemType = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1, DimValue = 1, DimParam = 2;

    /// <summary>The serialized <c>ModelProto</c>.</summary>
    /// <exception cref="PlatformNotSupportedException">A big-endian host (tensor bytes are copied as the host lays them out).</exception>
    public static byte[] ToBytes(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this host is not.");
        }

        return Message(o =>
        {
            Int64(o, ModelIrVersion, model.IrVersion);
            String(o, ModelProducerName, model.ProducerName);
            String(o, ModelProducerVersion, model.ProducerVersion);
            Nested(o, ModelGraph, Graph(model.Graph));
            // The default domain is the empty string; an empty string field is still written so the entry is explicit.
            Nested(o, ModelOpsetImport, Message(opset =>
            {
                String(opset, OpsetDomain, "");
                Int64(opset, OpsetVersion, model.OpsetVersion);
            }));
            foreach (var (key, value) in model.Metadata)
            {
                Nested(o, ModelMetadataProps, Message(entry =>
                {
                    String(entry, EntryKey, key);
                    String(entry, EntryValue, value);
                }));
            }
        });
    }

    private static byte[] Graph(OnnxGraph graph) => Message(o =>
    {
        foreach (var node in graph.Nodes)
        {
            Nested(o, GraphNode, Node(node));
        }

        String(o, GraphName, graph.Name);
        foreach (var tensor in graph.Initializers)
        {
            Nested(o, GraphInitializer, Tensor(tensor));
        }

        foreach (var input in graph.Inputs)
        {
            Nested(o, GraphInput, ValueInfo(input));
        }

        foreach (var output in graph.Outputs)
        {
            Nested(o, GraphOutput, ValueInfo(output));
        }
    });

    private static byte[] Node(OnnxNode node) => Message(o =>
    {
        foreach (var input in node.Inputs)
        {
            String(o, NodeInput, input);
        }

        foreach (var output in node.Outputs)
        {
            String(o, NodeOutput, output);
        }

        String(o, NodeName, node.Name);
        String(o, NodeOpType, node.OpType);
        foreach (var attribute in node.Attributes)
        {
            Nested(o, NodeAttribute, Attribute(attribute));
        }
    });

    private static byte[] Attribute(OnnxAttr attribute) => Message(o =>
    {
        String(o, AttributeName, attribute.Name);
        switch (attribute.Kind)
        {
            case OnnxAttrKind.Float:
                o.WriteTag(AttributeFloat, WireFormat.WireType.Fixed32);
                o.WriteFloat(attribute.FloatValue);
                break;
            case OnnxAttrKind.Int:
                Int64(o, AttributeInt, attribute.IntValue);
                break;
            case OnnxAttrKind.Ints:
                foreach (var value in attribute.IntsValue)
                {
                    Int64(o, AttributeInts, value);
                }

                break;
            case OnnxAttrKind.Tensor:
                Nested(o, AttributeTensor, Tensor(attribute.TensorValue ?? throw new ArgumentException($"Attribute '{attribute.Name}' has no tensor.")));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(attribute), attribute.Kind, "Unsupported attribute kind.");
        }

        Int64(o, AttributeType, (long)attribute.Kind);
    });

    private static byte[] Tensor(OnnxTensor tensor) => Message(o =>
    {
        // onnx.proto declares dims as proto2 "repeated int64" (unpacked); parsers accept either encoding.
        foreach (var dimension in tensor.Dimensions)
        {
            Int64(o, TensorDims, dimension);
        }

        Int64(o, TensorDataType, (long)tensor.Type);
        String(o, TensorName, tensor.Name);
        o.WriteTag(TensorRawData, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(tensor.RawData));
    });

    private static byte[] ValueInfo(OnnxValueInfo value) => Message(o =>
    {
        String(o, ValueInfoName, value.Name);
        var shape = Message(s =>
        {
            foreach (var dimension in value.Dimensions)
            {
                Nested(s, ShapeDim, Message(d =>
                {
                    switch (dimension)
                    {
                        case long size:
                            Int64(d, DimValue, size);
                            break;
                        case string symbol:
                            String(d, DimParam, symbol);
                            break;
                        default:
                            throw new ArgumentException($"Dimension of '{value.Name}' must be a long or a string, not {dimension?.GetType().Name ?? "null"}.");
                    }
                }));
            }
        });
        var tensorType = Message(t =>
        {
            Int64(t, TensorTypeElemType, (long)value.Type);
            Nested(t, TensorTypeShape, shape);
        });
        Nested(o, ValueInfoType, Message(t => Nested(t, TypeTensorType, tensorType)));
    });

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }

        return buffer.ToArray();
    }

    private static void Nested(CodedOutputStream output, int field, byte[] message)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(message));
    }

    private static void String(CodedOutputStream output, int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    private static void Int64(CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }
}
