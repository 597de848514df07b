using System.Collections.Immutable;
using System.Globalization;

namespace Harness.Forge.Onnx;

/// <summary>
/// Collects nodes and initializers in topological order (each node is added after the nodes it reads), naming each
/// intermediate value after its node so that a graph viewer or an ONNX Runtime error points at the right place.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly ImmutableArray<OnnxNode>.Builder _nodes = ImmutableArray.CreateBuilder<OnnxNode>();
    private readonly ImmutableArray<OnnxTensor>.Builder _initializers = ImmutableArray.CreateBuilder<OnnxTensor>();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Adds a node with one output, named <paramref name="name"/> (made unique), and returns that output.</summary>
    public string Op(string opType, string name, IEnumerable<string> inputs, params OnnxAttr[] attributes) =>
        Ops(opType, name, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs and returns them.</summary>
    public ImmutableArray<string> Ops(string opType, string name, IEnumerable<string> inputs, int outputCount, params OnnxAttr[] attributes)
    {
        var unique = Unique(name);
        var outputs = outputCount == 1
            ? ImmutableArray.Create(unique)
            : [.. Enumerable.Range(0, outputCount).Select(i => Unique(string.Create(CultureInfo.InvariantCulture, $"{unique}.{i}")))];
        _nodes.Add(new OnnxNode(unique, opType, [.. inputs], outputs, [.. attributes]));
        return outputs;
    }

    /// <summary>Adds a node whose output has a fixed name (a graph output such as <c>logits</c>).</summary>
    public void OpInto(string opType, string output, IEnumerable<string> inputs, params OnnxAttr[] attributes)
    {
        if (!_names.Add(output))
        {
            throw new InvalidOperationException($"The name '{output}' is already used in the graph.");
        }

        _nodes.Add(new OnnxNode(output, opType, [.. inputs], [output], [.. attributes]));
    }

    /// <summary>Adds a constant tensor and returns its name.</summary>
    public string Initializer(OnnxTensor tensor)
    {
        var named = tensor with { Name = Unique(tensor.Name) };
        _initializers.Add(named);
        return named.Name;
    }

    public string Floats(string name, ReadOnlySpan<float> values, params long[] dimensions) =>
        Initializer(OnnxTensor.Floats(name, [.. dimensions], values));

    public string Int64s(string name, params long[] values) =>
        Initializer(OnnxTensor.Int64s(name, [values.Length], values));

    public string Scalar(string name, float value) => Initializer(OnnxTensor.Floats(name, [], [value]));

    /// <summary>Reserves a name that the graph's inputs use.</summary>
    public void Reserve(string name)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"The name '{name}' is already used in the graph.");
        }
    }

    public OnnxGraph Build(string name, ImmutableArray<OnnxValueInfo> inputs, ImmutableArray<OnnxValueInfo> outputs) =>
        new(name, _nodes.ToImmutable(), _initializers.ToImmutable(), inputs, outputs);

    private string Unique(string name)
    {
        if (_names.Add(name))
        {
            return name;
        }

        for (var i = 1; ; i++)
        {
            var candidate = string.Create(CultureInfo.InvariantCulture, $"{name}_{i}");
            if (_names.Add(candidate))
            {
                return candidate;
            }
        }
    }
}
