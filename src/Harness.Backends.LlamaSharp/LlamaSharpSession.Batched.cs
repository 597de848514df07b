using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Suites;
using LLama.Native;

namespace Harness.Backends.LlamaSharp;

/// <summary>
/// Continuous batching: up to <see cref="ParallelSequences"/> requests decode together, one sequence id (and one
/// KV stream, the cache is not unified) each. Every step puts one token per generating sequence and as many
/// prompt tokens of newly admitted sequences as the batch holds into a single <c>llama_decode</c>; a sequence
/// that finishes frees its slot for the next request at once.
/// </summary>
/// <remarks>
/// Results equal <see cref="GenerateAsync"/>'s: the per-sequence logic (sampling, stop sequences, budgets,
/// context limit) is the same, and ggml computes each row of a batch independently of the others.
/// </remarks>
internal sealed partial class LlamaSharpSession : IBatchedTextGenerator
{
    public int ParallelSequences => _parallelSequences;

    public async IAsyncEnumerable<BatchedGeneration> GenerateBatchAsync(
        IReadOnlyList<GenerationRequest> requests, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        foreach (var request in requests)
        {
            ArgumentNullException.ThrowIfNull(request, nameof(requests));
            ValidateSettings(request.Settings);
            if (request.Settings.Grammar is not null)
            {
                // Grammar state is per sequence and the batch loop has one sampler; constrained requests go one at a time.
                throw new ArgumentException("a grammar-constrained request cannot be batched; send it through GenerateAsync", nameof(requests));
            }

        }

        var results = Channel.CreateUnbounded<BatchedGeneration>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        // Stops the decode loop when the caller stops enumerating early, not only when its token fires.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = _executor.InvokeAsync(token =>
        {
            try
            {
                RunBatch(requests, results.Writer, token);
                return true;
            }
            finally
            {
                // Leave no sequence behind for the next request, whatever ended the loop.
                _context.MemoryClear(data: false);
                results.Writer.TryComplete();
            }
        }, stop.Token);

        try
        {
            await foreach (var result in results.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                yield return result;
            await work.ConfigureAwait(false);
        }
        finally
        {
            if (!work.IsCompleted)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await work.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // The caller left; its own cancellation (if any) is already on its way up.
                }
            }
        }
    }

    private sealed class Slot(int sequence)
    {
        public readonly LLamaSeqId Sequence = (LLamaSeqId)sequence;
        public int Request = -1;
        public string PromptText = "";
        public LLamaToken[] Prompt = [];
        public int PromptDecoded;
        public int Position;
        public int Generated;
        public LLamaToken Pending;
        public bool HasPending;
        public int LogitsRow = -1;
        public StopSequenceText Text = null!;
        public Random? Random;
        public GenerationSettings Settings = null!;
        public long AdmittedAt;
        public TimeSpan? TimeToFirstToken;
        public TimeSpan PromptTime;
        public TimeSpan GenerationTime;
        public bool InPrompt, InGeneration;

        public bool Busy => Request >= 0;
    }

    private void RunBatch(IReadOnlyList<GenerationRequest> requests, ChannelWriter<BatchedGeneration> results, CancellationToken cancellationToken)
    {
        _context.MemoryClear(data: false);
        var slots = Enumerable.Range(0, _parallelSequences).Select(s => new Slot(s)).ToArray();
        var next = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var slot in slots)
            {
                while (!slot.Busy && next < requests.Count)
                    Admit(slot, next++, requests, results);
            }

            if (!slots.Any(s => s.Busy))
                return;

            // One token for every generating sequence first (they are cheap and keep latency even), then prompt
            // chunks of newly admitted ones in the room left.
            _promptBatch.Clear();
            foreach (var slot in slots)
            {
                slot.InPrompt = slot.InGeneration = false;
                if (slot.Busy && slot.HasPending)
                {
                    slot.LogitsRow = _promptBatch.Add(slot.Pending, slot.Position, slot.Sequence, logits: true);
                    slot.InGeneration = true;
                }
            }
            foreach (var slot in slots)
            {
                var room = _batchSize - _promptBatch.TokenCount;
                if (!slot.Busy || slot.HasPending || room == 0)
                    continue;
                var count = Math.Min(room, slot.Prompt.Length - slot.PromptDecoded);
                for (var j = 0; j < count; j++)
                {
                    var index = slot.PromptDecoded + j;
                    var last = index == slot.Prompt.Length - 1;
                    var row = _promptBatch.Add(slot.Prompt[index], index, slot.Sequence, logits: last);
                    if (last)
                        slot.LogitsRow = row;
                }
                slot.PromptDecoded += count;
                slot.InPrompt = true;
            }

            var decodeStart = _time.GetTimestamp();
            var result = _context.Decode(_promptBatch);
            var decodeTime = _time.GetElapsedTime(decodeStart);
            if (result != DecodeResult.Ok)
            {
                // The failed decode may have written part of the batch; the sequences in it cannot go on.
                foreach (var slot in slots.Where(s => s.InPrompt || s.InGeneration))
                {
                    Fail(slot, results, $"Model '{_model.Id}': llama_decode failed with {result} on a batch of {_promptBatch.TokenCount} tokens " +
                        $"from {_parallelSequences} parallel sequences (context size {_contextSize} per sequence).",
                        result == DecodeResult.NoKvSlot ? ItemFailureKind.ContextOverflow : ItemFailureKind.Backend);
                }
                continue;
            }

            foreach (var slot in slots)
            {
                if (slot.InPrompt)
                    slot.PromptTime += decodeTime;
                if (slot.InGeneration)
                {
                    slot.GenerationTime += decodeTime;
                    slot.Position++;
                    slot.HasPending = false;
                }
                if (slot.LogitsRow >= 0)
                {
                    var row = slot.LogitsRow;
                    slot.LogitsRow = -1;
                    Step(slot, row, results);
                }
            }
        }
    }

    private void Admit(Slot slot, int index, IReadOnlyList<GenerationRequest> requests, ChannelWriter<BatchedGeneration> results)
    {
        var request = requests[index];
        string promptText;
        LLamaToken[] prompt;
        try
        {
            bool parseSpecial;
            (promptText, parseSpecial) = RenderPrompt(request.Prompt);
            prompt = Tokenize(promptText, parseSpecial, "prompt");
        }
        catch (BackendException ex)
        {
            results.TryWrite(new BatchedGeneration(index, null, ex.Message, ex.Kind));
            return;
        }

        slot.Request = index;
        slot.PromptText = promptText;
        slot.Prompt = prompt;
        slot.PromptDecoded = 0;
        slot.Position = prompt.Length;
        slot.Generated = 0;
        slot.HasPending = false;
        slot.LogitsRow = -1;
        slot.Settings = request.Settings;
        slot.Text = new StopSequenceText(request.Settings.Stop);
        slot.Random = request.Settings.Temperature > 0 ? new Random(request.Settings.Seed) : null;
        slot.AdmittedAt = _time.GetTimestamp();
        slot.TimeToFirstToken = null;
        slot.PromptTime = slot.GenerationTime = TimeSpan.Zero;
    }

    /// <summary>Samples the slot's next token from its logits row and either finishes it or queues the token.</summary>
    private void Step(Slot slot, int row, ChannelWriter<BatchedGeneration> results)
    {
        try
        {
            CopyLogits(row, _logits, slot.Position - 1);
        }
        catch (BackendException ex)
        {
            Fail(slot, results, ex.Message, ex.Kind);
            return;
        }

        var token = slot.Random is null
            ? LogitMath.ArgMax(_logits)
            : LogitMath.Sample(_logits, slot.Settings.Temperature, slot.Random, _sampleWeights);
        slot.TimeToFirstToken ??= _time.GetElapsedTime(slot.AdmittedAt);

        FinishReason? finish = null;
        if (((LLamaToken)token).IsEndOfGeneration(_vocab))
        {
            finish = FinishReason.EndOfGeneration;
        }
        else
        {
            finish = GenerationEnd.AfterKeptToken(Piece(token), slot.Text, ref slot.Generated, slot.Settings.MaxTokens, slot.Position, _contextSize);
        }

        if (finish is null)
        {
            slot.Pending = token;
            slot.HasPending = true;
            return;
        }

        var timings = new RequestTimings(slot.TimeToFirstToken.Value, slot.PromptTime, slot.GenerationTime, _time.GetElapsedTime(slot.AdmittedAt));
        var result = new GenerationResult(slot.Text.Finish(), finish.Value, slot.PromptText, slot.Prompt.Length, slot.Generated, timings);
        results.TryWrite(new BatchedGeneration(slot.Request, result, null));
        Release(slot);
    }

    private void Fail(Slot slot, ChannelWriter<BatchedGeneration> results, string error, ItemFailureKind kind)
    {
        results.TryWrite(new BatchedGeneration(slot.Request, null, error, kind));
        Release(slot);
    }

    private void Release(Slot slot)
    {
        _context.MemorySequenceRemove(slot.Sequence, 0, -1);
        slot.Request = -1;
        slot.HasPending = false;
        slot.LogitsRow = -1;
    }
}
