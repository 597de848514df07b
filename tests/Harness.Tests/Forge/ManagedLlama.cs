using Harness.Core.Gguf;

namespace Harness.Tests.Forge;

/// <summary>
/// A plain managed llama forward pass (RMSNorm, rope in llama.cpp's adjacent-pair mode, causal multi-head
/// attention with grouped KV heads, SwiGLU) over F32/F16 tensors read back from a GGUF file. It is a
/// reference for tests, written from the architecture, not from llama.cpp's code, and computes in double.
/// </summary>
internal sealed class ManagedLlama
{
    private readonly GgufFile _file;
    private readonly int _embd, _vocab, _blocks, _ff, _heads, _kvHeads, _headDim;
    private readonly double _eps, _ropeBase;

    public ManagedLlama(string path)
    {
        _file = GgufReader.Read(path);
        Assert.Equal("llama", _file.GetString("general.architecture"));
        _embd = (int)_file.GetInteger("llama.embedding_length")!.Value;
        _blocks = (int)_file.GetInteger("llama.block_count")!.Value;
        _ff = (int)_file.GetInteger("llama.feed_forward_length")!.Value;
        _heads = (int)_file.GetInteger("llama.attention.head_count")!.Value;
        _kvHeads = (int)(_file.GetInteger("llama.attention.head_count_kv") ?? _heads);
        _headDim = _embd / _heads;
        Assert.Equal(_headDim, (int)_file.GetInteger("llama.rope.dimension_count")!.Value);
        _eps = (float)_file.GetNumber("llama.attention.layer_norm_rms_epsilon")!.Value;
        _ropeBase = _file.GetNumber("llama.rope.freq_base") ?? 10000.0;
        _vocab = _file.Find("tokenizer.ggml.tokens")!.Count;
    }

    /// <summary>Logits after every position of <paramref name="tokens"/>.</summary>
    public double[][] Forward(IReadOnlyList<int> tokens)
    {
        var embedding = Tensor("token_embd.weight", _embd, _vocab);
        var x = tokens.Select(t => embedding.AsSpan(t * _embd, _embd).ToArray()).ToArray();
        for (var b = 0; b < _blocks; b++)
        {
            var p = $"blk.{b}.";
            var kvDim = _headDim * _kvHeads;
            var (wq, wk, wv, wo) = (Tensor(p + "attn_q.weight", _embd, _embd), Tensor(p + "attn_k.weight", _embd, kvDim),
                Tensor(p + "attn_v.weight", _embd, kvDim), Tensor(p + "attn_output.weight", _embd, _embd));
            var normed = x.Select(h => RmsNorm(h, Tensor(p + "attn_norm.weight", _embd))).ToArray();
            var q = normed.Select((h, pos) => Rope(MatVec(wq, h, _embd), pos, _heads)).ToArray();
            var k = normed.Select((h, pos) => Rope(MatVec(wk, h, kvDim), pos, _kvHeads)).ToArray();
            var v = normed.Select(h => MatVec(wv, h, kvDim)).ToArray();
            for (var pos = 0; pos < x.Length; pos++)
            {
                var attention = new double[_embd];
                for (var head = 0; head < _heads; head++)
                {
                    var kvHead = head / (_heads / _kvHeads);
                    var scores = Enumerable.Range(0, pos + 1)
                        .Select(s => Dot(q[pos], head * _headDim, k[s], kvHead * _headDim, _headDim) / Math.Sqrt(_headDim)).ToArray();
                    var max = scores.Max();
                    var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var total = weights.Sum();
                    for (var s = 0; s <= pos; s++)
                    {
                        for (var i = 0; i < _headDim; i++)
                        {
                            attention[(head * _headDim) + i] += weights[s] / total * v[s][(kvHead * _headDim) + i];
                        }
                    }
                }

                Add(x[pos], MatVec(wo, attention, _embd));
            }

            var (gate, up, down) = (Tensor(p + "ffn_gate.weight", _embd, _ff), Tensor(p + "ffn_up.weight", _embd, _ff), Tensor(p + "ffn_down.weight", _ff, _embd));
            for (var pos = 0; pos < x.Length; pos++)
            {
                var h = RmsNorm(x[pos], Tensor(p + "ffn_norm.weight", _embd));
                var g = MatVec(gate, h, _ff);
                var u = MatVec(up, h, _ff);
                var swiglu = g.Select((gi, i) => gi / (1 + Math.Exp(-gi)) * u[i]).ToArray();
                Add(x[pos], MatVec(down, swiglu, _embd));
            }
        }

        var output = Tensor("output.weight", _embd, _vocab);
        return x.Select(h => MatVec(output, RmsNorm(h, Tensor("output_norm.weight", _embd)), _vocab)).ToArray();
    }

    private double[] Tensor(string name, params long[] dimensions)
    {
        var info = _file.Tensors.Single(t => t.Name == name);
        Assert.Equal(dimensions, info.Dimensions.ToArray());
        return [.. GgufReader.ReadTensorSingles(_file, info).Select(f => (double)f)];
    }

    // ggml's rms_norm: the mean square and epsilon are summed in float before the square root.
    private double[] RmsNorm(double[] x, double[] weight)
    {
        var meanSquare = (float)(x.Sum(v => v * v) / x.Length);
        var scale = 1.0f / MathF.Sqrt(meanSquare + (float)_eps);
        return x.Select((v, i) => v * scale * weight[i]).ToArray();
    }

    private double[] Rope(double[] x, int position, int heads)
    {
        var result = (double[])x.Clone();
        for (var head = 0; head < heads; head++)
        {
            for (var i = 0; i < _headDim; i += 2)
            {
                var theta = position * Math.Pow(_ropeBase, -(double)i / _headDim);
                var (a, b) = (x[(head * _headDim) + i], x[(head * _headDim) + i + 1]);
                result[(head * _headDim) + i] = (a * Math.Cos(theta)) - (b * Math.Sin(theta));
                result[(head * _headDim) + i + 1] = (a * Math.Sin(theta)) + (b * Math.Cos(theta));
            }
        }

        return result;
    }

    /// <summary>y = W x for W stored [out][in] (ggml dimensions [in, out]).</summary>
    private static double[] MatVec(double[] w, double[] x, int outputs) =>
        Enumerable.Range(0, outputs).Select(o => Dot(w, o * x.Length, x, 0, x.Length)).ToArray();

    private static double Dot(double[] a, int aOffset, double[] b, int bOffset, int length)
    {
        var sum = 0.0;
        for (var i = 0; i < length; i++)
        {
            sum += a[aOffset + i] * b[bOffset + i];
        }

        return sum;
    }

    private static void Add(double[] target, double[] delta)
    {
        for (var i = 0; i < target.Length; i++)
        {
            target[i] += delta[i];
        }
    }
}
