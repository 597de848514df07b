using LLama.Native;
using Harness.Core.Backends;

namespace Harness.Backends.LlamaSharp;

/// <summary>
/// llama.cpp's grammar sampler used as a mask only: tokens the GBNF grammar does not allow next get a logit of
/// −∞, and the session's own argmax or seeded sampling then picks among the rest, so a constrained output is
/// chosen by exactly the rule an unconstrained one is.
/// </summary>
internal sealed class GrammarConstraint : IDisposable
{
    private readonly SafeLLamaSamplerChainHandle _chain;
    private readonly LLamaTokenData[] _buffer;
    private readonly string _modelId;

    public GrammarConstraint(SafeLlamaModelHandle model, string grammar, string modelId)
    {
        _modelId = modelId;
        _chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        try
        {
            _chain.AddGrammar(model.Vocab, grammar, "root");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _chain.Dispose();
            throw new BackendException($"Model '{modelId}': llama.cpp refused the grammar ({ex.Message}); grammar: {grammar}");
        }

        _buffer = new LLamaTokenData[model.Vocab.Count];
    }

    /// <summary>Sets the logit of every token the grammar forbids next to −∞.</summary>
    /// <exception cref="BackendException">The grammar allows no token at all.</exception>
    public void Mask(float[] logits)
    {
        var array = LLamaTokenDataArray.Create(logits, _buffer);
        using (LLamaTokenDataArrayNative.Create(array, out var native))
        {
            _chain.Apply(ref native);
        }

        // The grammar sampler only rewrites logits in place; the array is still in token-id order.
        var allowed = 0;
        foreach (var data in _buffer.AsSpan(0, logits.Length))
        {
            logits[(int)data.ID] = data.Logit;
            if (!float.IsNegativeInfinity(data.Logit))
            {
                allowed++;
            }
        }

        if (allowed == 0)
        {
            throw new BackendException($"Model '{_modelId}': the grammar allows no next token (its vocabulary cannot spell what the grammar needs)");
        }
    }

    /// <summary>Advances the grammar past the chosen token.</summary>
    public void Accept(int token) => _chain.Accept((LLamaToken)token);

    public void Dispose() => _chain.Dispose();
}
