using System.Collections.Immutable;
using Harness.Core.Backends;
using LLama.Native;

namespace Harness.Backends.LlamaSharp;

/// <summary>
/// llama-bench's measurements inside the harness. Synthetic tokens (speed does not depend on which tokens), the
/// same context, batches and per-token work as <see cref="GenerateAsync"/>, so the figures are the evaluation's own.
/// </summary>
internal sealed partial class LlamaSharpSession : IThroughputProbe
{
    public Task<ThroughputSample> MeasureAsync(ThroughputRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (request.PromptTokens < 0 || request.GeneratedTokens < 0 || request.Depth < 0)
            throw new ArgumentOutOfRangeException(nameof(request), request, "Token counts and depth must not be negative.");
        if (request.Sequences < 1 || request.Sequences > _parallelSequences)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Sequences,
                $"Sequences must be between 1 and the session's {_parallelSequences} parallel sequences.");
        }
        var needed = request.Depth + Math.Max(1, request.PromptTokens) + request.GeneratedTokens;
        if (needed > _contextSize)
        {
            throw new BackendException(
                $"Model '{_model.Id}': depth {request.Depth} + prompt {request.PromptTokens} + generation {request.GeneratedTokens} tokens " +
                $"need {needed} positions but the context size is {_contextSize} per sequence.");
        }
        return _executor.InvokeAsync(token => Measure(request, token), cancellationToken);
    }

    private ThroughputSample Measure(ThroughputRequest request, CancellationToken cancellationToken)
    {
        _context.MemoryClear(data: false);
        var sequences = request.Sequences;
        // Depth, plus one prompt token when the test has no prompt of its own, is context that is not timed.
        var untimed = request.Depth + (request.PromptTokens == 0 ? 1 : 0);
        for (var s = 0; s < sequences; s++)
            DecodeSynthetic((LLamaSeqId)s, 0, untimed, logitsLast: false, cancellationToken);

        var prompt = TimeSpan.Zero;
        var firstToken = TimeSpan.Zero;
        if (request.PromptTokens > 0)
        {
            var start = _time.GetTimestamp();
            for (var s = 0; s < sequences; s++)
                DecodeSynthetic((LLamaSeqId)s, untimed, request.PromptTokens, logitsLast: true, cancellationToken);
            prompt = _time.GetElapsedTime(start);
            CopyLogits(_promptBatch.TokenCount - 1, _logits, untimed + request.PromptTokens - 1);
            _ = LogitMath.ArgMax(_logits);
            firstToken = _time.GetElapsedTime(start);
        }

        var generation = TimeSpan.Zero;
        var inDecode = TimeSpan.Zero;
        if (request.GeneratedTokens > 0)
        {
            // The per-token work of a real generation: copy and check each logits row, argmax, detokenize, watch for stops.
            var texts = Enumerable.Range(0, sequences).Select(_ => new StopSequenceText(ImmutableArray.Create("\u0001never\u0001"))).ToArray();
            var tokens = new LLamaToken[sequences];
            for (var s = 0; s < sequences; s++)
                tokens[s] = SyntheticToken(s);
            var position = untimed + request.PromptTokens;
            var start = _time.GetTimestamp();
            for (var step = 0; step < request.GeneratedTokens; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _tokenBatch.Clear();
                for (var s = 0; s < sequences; s++)
                    _tokenBatch.Add(tokens[s], position, (LLamaSeqId)s, logits: true);
                var decodeStart = _time.GetTimestamp();
                var result = _context.Decode(_tokenBatch);
                inDecode += _time.GetElapsedTime(decodeStart);
                if (result != DecodeResult.Ok)
                    throw DecodeFailed(result, $"benchmark generation step {step} at position {position}");
                for (var s = 0; s < sequences; s++)
                {
                    CopyLogits(s, _logits, position);
                    var next = LogitMath.ArgMax(_logits);
                    texts[s].Append(Piece(next));
                    // Argmax of random weights can repeat one token forever; keep feeding real tokens either way.
                    tokens[s] = next;
                }
                position++;
            }
            generation = _time.GetElapsedTime(start);
        }

        _context.MemoryClear(data: false);
        return new ThroughputSample(request.PromptTokens, request.GeneratedTokens, request.Depth, sequences, prompt, firstToken, generation, inDecode);
    }

    /// <summary>Decodes <paramref name="count"/> synthetic tokens into one sequence from <paramref name="from"/>, in batch-size chunks.</summary>
    private void DecodeSynthetic(LLamaSeqId sequence, int from, int count, bool logitsLast, CancellationToken cancellationToken)
    {
        for (var chunkStart = 0; chunkStart < count; chunkStart += _batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = Math.Min(_batchSize, count - chunkStart);
            _promptBatch.Clear();
            for (var j = 0; j < chunk; j++)
            {
                var index = chunkStart + j;
                _promptBatch.Add(SyntheticToken(from + index), from + index, sequence, logits: logitsLast && index == count - 1);
            }
            var result = _context.Decode(_promptBatch);
            if (result != DecodeResult.Ok)
                throw DecodeFailed(result, $"benchmark tokens {from + chunkStart}..{from + chunkStart + chunk - 1}");
        }
    }

    /// <summary>Ordinary (non-control) tokens in a fixed pattern; the raw C reference uses the same rule.</summary>
    private LLamaToken SyntheticToken(int index) => (LLamaToken)(3 + (int)((index * 7919L + 17) % Math.Max(1, _logits.Length - 3)));
}
