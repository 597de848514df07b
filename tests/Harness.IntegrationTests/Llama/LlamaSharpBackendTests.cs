using System.Collections.Immutable;
using System.Text;
using Harness.Backends.LlamaSharp;
using Harness.Core.Backends;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Harness.IntegrationTests.Llama;

[Trait("Category", "Model")]
public sealed class LlamaSharpBackendTests
{
    [RequiresSharedModelFact]
    public async Task Generate_Greedy_SameRequestTwice_GivesIdenticalOutput()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();
        var request = LlamaTestModels.Request(maxTokens: 40);

        var first = await session.GenerateAsync(request, CancellationToken.None);
        var second = await session.GenerateAsync(request, CancellationToken.None);

        Assert.False(string.IsNullOrWhiteSpace(first.Text));
        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first.GeneratedTokens, second.GeneratedTokens);
        Assert.Equal(first.FinishReason, second.FinishReason);
    }

    [RequiresSharedModelFact]
    public async Task Generate_SeededTemperature_SameRequestTwice_GivesIdenticalOutput_EvenAcrossSessions()
    {
        var request = LlamaTestModels.Request(maxTokens: 40, temperature: 0.8, seed: 1234);
        string fromFirstSession;
        await using (var session = await LlamaTestModels.LoadStoriesAsync())
        {
            var first = await session.GenerateAsync(request, CancellationToken.None);
            var second = await session.GenerateAsync(request, CancellationToken.None);
            Assert.Equal(first.Text, second.Text);
            fromFirstSession = first.Text;
        }

        await using var other = await LlamaTestModels.LoadStoriesAsync();
        var third = await other.GenerateAsync(request, CancellationToken.None);
        Assert.Equal(fromFirstSession, third.Text);
    }

    [RequiresSharedModelFact]
    public async Task Generate_SeededTemperature_DiffersFromGreedyForSomeSeed()
    {
        // Guards against sampling silently falling back to argmax.
        await using var session = await LlamaTestModels.LoadStoriesAsync();
        var greedy = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 24), CancellationToken.None);
        var sampled = new List<string>();
        for (var seed = 1; seed <= 3; seed++)
            sampled.Add((await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 24, temperature: 1.0, seed: seed), CancellationToken.None)).Text);

        Assert.Contains(sampled, text => text != greedy.Text);
    }

    [RequiresSharedModelFact]
    public async Task Generate_StopSequence_CutsTextBeforeIt()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();
        var full = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 48), CancellationToken.None);
        // A word from the middle of the greedy output; greedy decoding is deterministic, so it will recur.
        var words = full.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(words.Length > 6, $"expected a longer output: '{full.Text}'");
        var stop = " " + words[5];
        var expected = full.Text[..full.Text.IndexOf(stop, StringComparison.Ordinal)];

        var cut = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 48, stop: stop), CancellationToken.None);

        Assert.Equal(FinishReason.StopSequence, cut.FinishReason);
        Assert.Equal(expected, cut.Text);
        Assert.DoesNotContain(stop, cut.Text, StringComparison.Ordinal);
        Assert.True(cut.GeneratedTokens < full.GeneratedTokens);
    }

    [RequiresSharedModelFact]
    public async Task Generate_MaxTokens_GeneratesExactlyThatManyWithoutStop()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();

        var result = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 17), CancellationToken.None);

        Assert.Equal(FinishReason.MaxTokens, result.FinishReason);
        Assert.Equal(17, result.GeneratedTokens);
    }

    [RequiresSharedModelFact]
    public async Task Generate_ReportsPositiveConsistentTimingsAndTokenCounts()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();

        var result = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 20), CancellationToken.None);

        var t = result.Timings;
        Assert.True(result.PromptTokens > 0);
        Assert.True(result.GeneratedTokens > 0);
        Assert.True(t.TimeToFirstToken > TimeSpan.Zero);
        Assert.True(t.PromptEvaluation > TimeSpan.Zero);
        Assert.True(t.Generation > TimeSpan.Zero);
        Assert.True(t.TimeToFirstToken <= t.Total);
        Assert.True(t.PromptEvaluation + t.Generation <= t.Total);
    }

    [RequiresSharedModelFact]
    public async Task Generate_ChatTemplateAuto_WithoutTemplateInGguf_FeedsPlainTextAndRecordsIt()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();
        var prompt = new RenderedPrompt([new ChatMessage("user", "ignored chat turn")], LlamaTestModels.Prompt);

        var result = await session.GenerateAsync(
            new GenerationRequest(prompt, new Core.Suites.GenerationSettings(4, [], 0, 0)), CancellationToken.None);

        Assert.Equal(LlamaTestModels.Prompt, result.PromptText);
        Assert.Equal("auto->none (no template in GGUF)", session.LoadInfo.ChatTemplate);
    }

    [RequiresSharedModelFact]
    public async Task Generate_ChatTemplateAuto_WithTemplateInGguf_AppliesItWithAssistantTurn()
    {
        const string chatml =
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
            "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        var path = TempGguf("chatml");
        GgufTestFiles.CopyWithStringMetadata(SharedModels.Stories260KPath, path, "tokenizer.chat_template", chatml);
        try
        {
            var prompt = new RenderedPrompt([new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hello")], "plain text");
            var request = new GenerationRequest(prompt, new Core.Suites.GenerationSettings(3, [], 0, 0));

            await using (var session = await new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(path), path, CancellationToken.None))
            {
                var result = await session.GenerateAsync(request, CancellationToken.None);
                Assert.Equal("gguf", session.LoadInfo.ChatTemplate);
                Assert.Equal("true", session.LoadInfo.EffectiveSettings["parse_special_in_prompt"]);
                Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", result.PromptText);
            }

            var none = LlamaTestModels.Entry(path, chatTemplate: Core.Models.ChatTemplateMode.None);
            await using (var session = await new LlamaSharpBackend().LoadAsync(none, path, CancellationToken.None))
            {
                var result = await session.GenerateAsync(request, CancellationToken.None);
                Assert.Equal("none", session.LoadInfo.ChatTemplate);
                Assert.Equal("plain text", result.PromptText);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [RequiresSharedModelFact]
    public async Task Load_ChatTemplateLlamaCppCannotApply_ThrowsModelLoadException()
    {
        var path = TempGguf("oddtemplate");
        GgufTestFiles.CopyWithStringMetadata(SharedModels.Stories260KPath, path, "tokenizer.chat_template", "{{ something nobody recognises }}");
        try
        {
            var ex = await Assert.ThrowsAsync<ModelLoadException>(
                () => new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(path), path, CancellationToken.None));
            Assert.Contains("chat_template: none", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [RequiresSharedModelFact]
    public async Task Generate_ModelProducingNaNLogits_ThrowsBackendException()
    {
        // A corrupt file that still loads: NaN weights in the output norm make every logit NaN.
        var path = TempGguf("nan");
        GgufTestFiles.CopyWithF32TensorFilled(SharedModels.Stories260KPath, path, "output_norm.weight", float.NaN);
        try
        {
            await using var session = await new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(path), path, CancellationToken.None);
            var ex = await Assert.ThrowsAsync<BackendException>(
                () => session.GenerateAsync(LlamaTestModels.Request(maxTokens: 4), CancellationToken.None));
            Assert.Contains("produced non-finite logits", ex.Message, StringComparison.Ordinal);
            Assert.Contains(path, ex.Message, StringComparison.Ordinal);

            var scoring = await Assert.ThrowsAsync<BackendException>(() => ((ILogLikelihoodScorer)session).ScoreContinuationsAsync(
                new LogLikelihoodRequest(LlamaTestModels.PlainPrompt(LlamaTestModels.Prompt), [" was"]), CancellationToken.None));
            Assert.Contains("produced non-finite logits", scoring.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string TempGguf(string name) => Path.Combine(Path.GetTempPath(), $"harness-{name}-{Guid.NewGuid():N}.gguf");

    [RequiresSharedModelFact]
    public async Task Load_RecordsEffectiveSettingsAndVersions()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync(contextSize: 256, threads: 2, batchSize: 32);
        var info = session.LoadInfo;

        Assert.Equal("llamasharp", info.Backend);
        Assert.Equal(new FileInfo(SharedModels.Stories260KPath).Length, info.FileSizeBytes);
        Assert.True(info.LoadTime > TimeSpan.Zero);
        Assert.True(info.ResidentMemoryAfterLoadBytes > 0);
        Assert.Equal("2", info.EffectiveSettings["threads"]);
        Assert.Equal("2", info.EffectiveSettings["batch_threads"]);
        Assert.Equal("32", info.EffectiveSettings["batch_size"]);
        Assert.Equal("256", info.EffectiveSettings["context_size_requested"]);
        Assert.Equal(info.ParallelSequences.ToString(System.Globalization.CultureInfo.InvariantCulture), info.EffectiveSettings["seq_max"]);
        Assert.Equal(info.EffectiveSettings["seq_max"], info.EffectiveSettings["parallel_sequences"]);
        Assert.Equal("0.30.0", info.Versions["LLamaSharp"]);
        Assert.Equal("c0c7e14", info.Versions["llama.cpp"]);
        Assert.EndsWith("libllama.so", info.Versions["llama.cpp.native_library"], StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(info.Versions["llama.cpp.system_info"]));
    }

    [RequiresSharedModelFact]
    public async Task ScoreContinuations_MatchesNaiveDecodeOfContextPlusContinuation()
    {
        var continuations = ImmutableArray.Create(" went to the park.", " was very happy", " zebra quantum", "");

        // Batch 64 holds the context and each continuation in one decode, the same shapes as the naive pass.
        var scored = await ScoreAsync(LlamaTestModels.Prompt, continuations, batchSize: 64);
        var naive = NaiveLogLikelihoods(LlamaTestModels.Prompt, continuations);

        Assert.Equal(continuations.Length, scored.Continuations.Length);
        Assert.True(scored.PromptTokens > 0);
        for (var i = 0; i < continuations.Length; i++)
        {
            var score = scored.Continuations[i];
            Assert.Equal(continuations[i], score.Continuation);
            Assert.Equal(naive[i].Tokens, score.TokenCount);
            Assert.Equal(Encoding.UTF8.GetByteCount(continuations[i]), score.ByteCount);
            Assert.Equal(naive[i].LogProbability, score.LogProbability, 1e-4);
            Assert.Equal(naive[i].IsGreedy, score.IsGreedy);
        }
        // " was very happy" is three SentencePiece tokens; tokenizing it alone would add a lone "\u2581" first.
        Assert.Equal(3, scored.Continuations[1].TokenCount);
        Assert.True(scored.Continuations[0].LogProbability > scored.Continuations[2].LogProbability);
        Assert.Equal(0.0, scored.Continuations[3].LogProbability);
        Assert.True(scored.Continuations[3].IsGreedy);
    }

    [RequiresSharedModelFact]
    public async Task ScoreContinuations_SmallBatchChunks_AgreeWithNaiveWithinKernelNoise()
    {
        // Batch 4 splits the context and continuations over several decodes. llama.cpp picks matmul kernels by
        // batch shape, which moves sums by about 1e-3 (measured: 1.6e-3 at batch 8); anything larger is a bug.
        var continuations = ImmutableArray.Create(" went to the park and played with her friends.", " was very happy");

        var scored = await ScoreAsync(LlamaTestModels.Prompt, continuations, batchSize: 4);
        var naive = NaiveLogLikelihoods(LlamaTestModels.Prompt, continuations);

        for (var i = 0; i < continuations.Length; i++)
        {
            Assert.Equal(naive[i].Tokens, scored.Continuations[i].TokenCount);
            Assert.Equal(naive[i].LogProbability, scored.Continuations[i].LogProbability, 1e-2);
        }
    }

    [RequiresSharedModelFact]
    public async Task ScoreContinuations_TrailingContextWhitespace_MovesIntoContinuation()
    {
        var withSpace = await ScoreAsync(LlamaTestModels.Prompt + " ", ["was happy"], batchSize: 64);
        var without = await ScoreAsync(LlamaTestModels.Prompt, [" was happy"], batchSize: 64);

        Assert.Equal(LlamaTestModels.Prompt, withSpace.PromptText);
        Assert.Equal(without.PromptTokens, withSpace.PromptTokens);
        Assert.Equal(without.Continuations[0].TokenCount, withSpace.Continuations[0].TokenCount);
        Assert.Equal(without.Continuations[0].LogProbability, withSpace.Continuations[0].LogProbability, 1e-9);
        Assert.Equal(9, withSpace.Continuations[0].ByteCount);
    }

    private static async Task<LogLikelihoodResult> ScoreAsync(string context, ImmutableArray<string> continuations, int batchSize)
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync(batchSize: batchSize);
        var scorer = Assert.IsAssignableFrom<ILogLikelihoodScorer>(session);
        return await scorer.ScoreContinuationsAsync(
            new LogLikelihoodRequest(LlamaTestModels.PlainPrompt(context), continuations), CancellationToken.None);
    }

    [RequiresSharedModelFact]
    public async Task ScoreContinuations_GreedyContinuation_IsGreedy()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();
        var greedy = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 6), CancellationToken.None);
        var scorer = (ILogLikelihoodScorer)session;

        var result = await scorer.ScoreContinuationsAsync(
            new LogLikelihoodRequest(LlamaTestModels.PlainPrompt(LlamaTestModels.Prompt), [greedy.Text]), CancellationToken.None);

        // Re-tokenizing generated text can merge tokens differently, but for this model and prompt it round-trips.
        Assert.True(result.Continuations[0].IsGreedy, $"'{greedy.Text}' should be the greedy continuation");
        Assert.True(result.Continuations[0].LogProbability < 0);
    }

    [RequiresSharedModelFact]
    public async Task Generate_PromptLongerThanContext_ThrowsBackendExceptionNamingSizes()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync(contextSize: 64);
        var longPrompt = string.Concat(Enumerable.Repeat("Once upon a time there was a little dog. ", 60));

        var ex = await Assert.ThrowsAsync<BackendException>(
            () => session.GenerateAsync(LlamaTestModels.Request(longPrompt, maxTokens: 4), CancellationToken.None));

        Assert.Contains("context size is", ex.Message, StringComparison.Ordinal);
        Assert.Contains(session.LoadInfo.EffectiveSettings["context_size"], ex.Message, StringComparison.Ordinal);
    }

    [RequiresSharedModelFact]
    public async Task Generate_ContextFillsDuringGeneration_FinishesWithContextFull()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync(contextSize: 64);
        var contextSize = int.Parse(session.LoadInfo.EffectiveSettings["context_size"], System.Globalization.CultureInfo.InvariantCulture);

        var result = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 10_000), CancellationToken.None);

        // The story model may end a story first; otherwise the context must be what stopped it.
        if (result.FinishReason != FinishReason.EndOfGeneration)
        {
            Assert.Equal(FinishReason.ContextFull, result.FinishReason);
            Assert.Equal(contextSize - result.PromptTokens + 1, result.GeneratedTokens);
        }
    }

    [RequiresSharedModelFact]
    public async Task Generate_CancelledToken_ThrowsOperationCanceled()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => session.GenerateAsync(LlamaTestModels.Request(), cts.Token));
        // The session stays usable after a cancelled request.
        var after = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 3), CancellationToken.None);
        Assert.Equal(3, after.GeneratedTokens);
    }

    [RequiresSharedModelFact]
    public async Task Load_TruncatedGguf_ThrowsModelLoadException()
    {
        var truncated = Path.Combine(Path.GetTempPath(), $"harness-truncated-{Guid.NewGuid():N}.gguf");
        var bytes = await File.ReadAllBytesAsync(SharedModels.Stories260KPath);
        await File.WriteAllBytesAsync(truncated, bytes.AsSpan(0, 64 * 1024).ToArray());
        try
        {
            var ex = await Assert.ThrowsAsync<ModelLoadException>(
                () => new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(truncated), truncated, CancellationToken.None));
            Assert.Contains("stories260K", ex.Message, StringComparison.Ordinal);
            Assert.Contains(truncated, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(truncated);
        }
    }

    [Fact]
    public async Task Load_MissingFile_ThrowsModelLoadExceptionNamingModelAndPath()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"harness-missing-{Guid.NewGuid():N}.gguf");

        var ex = await Assert.ThrowsAsync<ModelLoadException>(
            () => new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(missing), missing, CancellationToken.None));

        Assert.Contains("stories260K", ex.Message, StringComparison.Ordinal);
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_FileWithoutGgufMagic_ThrowsModelLoadException()
    {
        var notGguf = Path.Combine(Path.GetTempPath(), $"harness-notgguf-{Guid.NewGuid():N}.gguf");
        await File.WriteAllTextAsync(notGguf, "this is not a model");
        try
        {
            var ex = await Assert.ThrowsAsync<ModelLoadException>(
                () => new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(notGguf), notGguf, CancellationToken.None));
            Assert.Contains("not a GGUF file", ex.Message, StringComparison.Ordinal);
            Assert.Contains(notGguf, ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notGguf);
        }
    }

    [Fact]
    public async Task Load_InvalidOptions_ThrowsModelLoadExceptionNamingTheProblem()
    {
        var path = SharedModels.Stories260KPath;
        var ex = await Assert.ThrowsAsync<ModelLoadException>(
            () => new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(path, threads: 0), path, CancellationToken.None));
        Assert.Contains("threads must be at least 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("manifest line 1", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The second way: a fresh context, context+continuation decoded in one batch with logits everywhere,
    /// log-softmax of each row in double. No KV reuse, no sequence removal, no chunking.
    /// </summary>
    private static (double LogProbability, int Tokens, bool IsGreedy)[] NaiveLogLikelihoods(string context, ImmutableArray<string> continuations)
    {
        LlamaNativeRuntime.EnsureInitialized();
        var parameters = new ModelParams(SharedModels.Stories260KPath) { ContextSize = 256, BatchSize = 256, UBatchSize = 256, Threads = 1, BatchThreads = 1 };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        var results = new (double, int, bool)[continuations.Length];
        for (var c = 0; c < continuations.Length; c++)
        {
            using var ctx = weights.CreateContext(parameters, logger: null);
            // lm-eval's split: continuation tokens are those of context+continuation after the context's tokens.
            var contextTokens = weights.Tokenize(context, add_bos: weights.Vocab.ShouldAddBOS, special: false, Encoding.UTF8);
            var whole = weights.Tokenize(context + continuations[c], add_bos: weights.Vocab.ShouldAddBOS, special: false, Encoding.UTF8);
            var contTokens = whole.Skip(contextTokens.Length).ToArray();
            var all = contextTokens.Concat(contTokens).ToArray();
            var batch = new LLamaBatch();
            for (var i = 0; i < all.Length; i++)
                batch.Add(all[i], i, LLamaSeqId.Zero, logits: true);
            Assert.Equal(DecodeResult.Ok, ctx.NativeHandle.Decode(batch));

            var sum = 0.0;
            var greedy = true;
            for (var k = 0; k < contTokens.Length; k++)
            {
                var row = ctx.NativeHandle.GetLogitsIth(contextTokens.Length + k - 1);
                var max = double.NegativeInfinity;
                var argMax = 0;
                for (var v = 0; v < row.Length; v++)
                {
                    if (row[v] > max)
                    {
                        max = row[v];
                        argMax = v;
                    }
                }
                var sumExp = 0.0;
                for (var v = 0; v < row.Length; v++)
                    sumExp += Math.Exp(row[v] - max);
                var target = (int)contTokens[k];
                sum += row[target] - max - Math.Log(sumExp);
                greedy &= argMax == target;
            }
            results[c] = (sum, contTokens.Length, greedy);
        }
        return results;
    }
}
