using System.Collections.Immutable;
using System.Globalization;
using Harness.Backends.OnnxGenAI;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.IntegrationTests.Cli;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.OnnxGenAi;

/// <summary>
/// The onnx-genai backend against llama.cpp on the same weights (the shipped arithmetic model and its ONNX export):
/// same token ids, same greedy and seeded outputs on the shipped arith suite, log-likelihoods within a measured tolerance.
/// </summary>
[Trait("Category", "Model")]
public sealed class OnnxGenAiBackendTests(ExportedArithModel pair, ITestOutputHelper output) : IClassFixture<ExportedArithModel>
{
    // Largest |difference| measured on this machine: 0.032 nats per continuation (24 arith items x 3 continuations of up
    // to 3 tokens). llama.cpp rounds activations and its KV cache to F16 with the F16 weights; the export computes in F32
    // (docs/backends.md).
    private const double LogLikelihoodTolerance = 0.05;

    private static readonly Suite Arith = SuiteLoader.Load(Path.Combine(HarnessProcess.RepositoryRoot, "tasks", "arith"));

    private static IEnumerable<SuiteItem> ArithItems => Arith.Items.Take(24);

    [Theory]
    [InlineData("12+45=")]
    [InlineData("0123456789")]
    [InlineData("  two  spaces, then a tab\tand end ")]
    [InlineData("first line\nsecond line\n")]
    [InlineData("naïve café, 😀 and 漢字")]
    public async Task Tokenizer_gives_llama_cpp_token_ids_and_trace_distributions(string text)
    {
        var request = new DistributionTraceRequest(new RenderedPrompt([new ChatMessage("user", text)], text), "", TopK: 3, [], PlainText: true);
        var onnx = await ((ITokenDistributionProbe)pair.Onnx).TraceAsync(request, CancellationToken.None);
        var llama = await ((ITokenDistributionProbe)pair.Llama).TraceAsync(request, CancellationToken.None);

        Assert.Equal<int>(llama.Tokens, onnx.Tokens);
        Assert.Equal(llama.Positions.Length, onnx.Positions.Length);
        var largest = 0.0;
        for (var i = 0; i < onnx.Positions.Length; i++)
        {
            Assert.Equal(llama.Positions[i].NextToken, onnx.Positions[i].NextToken);
            largest = Math.Max(largest, Math.Abs(llama.Positions[i].NextTokenLogProbability - onnx.Positions[i].NextTokenLogProbability));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{onnx.Tokens.Length} tokens, largest next-token log-probability difference {largest:0.######}"));
        Assert.InRange(largest, 0, LogLikelihoodTolerance);
    }

    [Fact]
    public async Task Greedy_outputs_on_the_arith_suite_equal_llama_cpp()
    {
        Assert.Equal(0, Arith.Generation.Temperature);
        var correct = 0;
        foreach (var item in ArithItems)
        {
            var request = new GenerationRequest(PromptRenderer.Render(Arith, item), Arith.Generation);
            var onnx = await pair.Onnx.GenerateAsync(request, CancellationToken.None);
            var llama = await pair.Llama.GenerateAsync(request, CancellationToken.None);

            Assert.Equal(llama.PromptText, onnx.PromptText);
            Assert.Equal(llama.PromptTokens, onnx.PromptTokens);
            Assert.Equal((item.Id, llama.Text, llama.FinishReason, llama.GeneratedTokens), (item.Id, onnx.Text, onnx.FinishReason, onnx.GeneratedTokens));
            Assert.DoesNotContain("\n", onnx.Text, StringComparison.Ordinal);
            Assert.True(onnx.Timings.TimeToFirstToken > TimeSpan.Zero && onnx.Timings.PromptEvaluation > TimeSpan.Zero);
            Assert.True(onnx.Timings.Total >= onnx.Timings.PromptEvaluation + onnx.Timings.Generation);
            correct += onnx.Text == item.Target ? 1 : 0;
        }
        output.WriteLine($"{correct}/{ArithItems.Count()} correct in both runtimes");
    }

    [Fact]
    public async Task The_shipped_onnx_folder_answers_the_arith_suite_like_its_gguf()
    {
        var shipped = Path.Combine(HarnessProcess.RepositoryRoot, "models", "tiny-arith-xs-onnx");
        await using var session = await ExportedArithModel.LoadOnnxAsync(shipped);
        foreach (var item in ArithItems)
        {
            var request = new GenerationRequest(PromptRenderer.Render(Arith, item), Arith.Generation);
            var onnx = await session.GenerateAsync(request, CancellationToken.None);
            var llama = await pair.Llama.GenerateAsync(request, CancellationToken.None);
            Assert.Equal((item.Id, llama.Text, llama.FinishReason), (item.Id, onnx.Text, onnx.FinishReason));
        }
    }

    [Fact]
    public async Task Seeded_sampling_is_reproducible_and_equals_llama_cpp()
    {
        var settings = new GenerationSettings(MaxTokens: 6, Stop: [], Temperature: 0.9, Seed: 42);
        foreach (var item in ArithItems.Take(8))
        {
            var request = new GenerationRequest(PromptRenderer.Render(Arith, item), settings);
            var first = await pair.Onnx.GenerateAsync(request, CancellationToken.None);
            var again = await pair.Onnx.GenerateAsync(request, CancellationToken.None);
            var llama = await pair.Llama.GenerateAsync(request, CancellationToken.None);

            Assert.Equal(first.Text, again.Text);
            Assert.Equal((item.Id, llama.Text, llama.FinishReason), (item.Id, first.Text, first.FinishReason));
        }
    }

    [Fact]
    public async Task Per_item_log_likelihoods_agree_with_llama_cpp_within_the_tolerance()
    {
        var largest = 0.0;
        foreach (var item in ArithItems)
        {
            var wrong = (int.Parse(item.Target!, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
            var request = new LogLikelihoodRequest(PromptRenderer.Render(Arith, item), [item.Target!, wrong, " 0\n"]);
            var onnx = await ((ILogLikelihoodScorer)pair.Onnx).ScoreContinuationsAsync(request, CancellationToken.None);
            var llama = await ((ILogLikelihoodScorer)pair.Llama).ScoreContinuationsAsync(request, CancellationToken.None);

            Assert.Equal(llama.PromptText, onnx.PromptText);
            Assert.Equal(llama.PromptTokens, onnx.PromptTokens);
            for (var i = 0; i < request.Continuations.Length; i++)
            {
                Assert.Equal(llama.Continuations[i].TokenCount, onnx.Continuations[i].TokenCount);
                largest = Math.Max(largest, Math.Abs(llama.Continuations[i].LogProbability - onnx.Continuations[i].LogProbability));
            }
            // The trained answer is far ahead of the others: both runtimes call it greedy.
            Assert.Equal(llama.Continuations[0].IsGreedy, onnx.Continuations[0].IsGreedy);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"largest per-continuation log-likelihood difference {largest:0.######} nats"));
        Assert.InRange(largest, 0, LogLikelihoodTolerance);
    }

    [Fact]
    public async Task Token_budget_and_full_context_end_generation()
    {
        var item = Arith.Items[0];
        var prompt = PromptRenderer.Render(Arith, item);
        var budget = await pair.Onnx.GenerateAsync(new GenerationRequest(prompt, new GenerationSettings(2, [], 0, 0)), CancellationToken.None);
        Assert.Equal((FinishReason.MaxTokens, 2), (budget.FinishReason, budget.GeneratedTokens));

        // A context of 10 holds the 7 prompt tokens and 3 generated ones; the 4th is chosen from the last position's
        // logits and then has no room, as in the llama.cpp session (whose context llama.cpp pads to 256, so it cannot
        // be compared here).
        await using var small = await ExportedArithModel.LoadOnnxAsync(pair.Folder, contextSize: 10);
        var full = await small.GenerateAsync(new GenerationRequest(prompt, new GenerationSettings(50, [], 0, 0)), CancellationToken.None);
        var llama = await pair.Llama.GenerateAsync(new GenerationRequest(prompt, new GenerationSettings(4, [], 0, 0)), CancellationToken.None);
        Assert.Equal(7, full.PromptTokens);
        Assert.Equal((FinishReason.ContextFull, 4, llama.Text), (full.FinishReason, full.GeneratedTokens, full.Text));
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_a_context_overflow_and_a_grammar_is_refused()
    {
        var text = string.Concat(Enumerable.Repeat("12+34=46\n", 20));
        var tooLong = new GenerationRequest(new RenderedPrompt([new ChatMessage("user", text)], text), new GenerationSettings(4, [], 0, 0));
        var overflow = await Assert.ThrowsAsync<BackendException>(() => pair.Onnx.GenerateAsync(tooLong, CancellationToken.None));
        Assert.Equal(ItemFailureKind.ContextOverflow, overflow.Kind);

        var grammar = new GenerationRequest(PromptRenderer.Render(Arith, Arith.Items[0]), new GenerationSettings(4, [], 0, 0, Grammar: "root ::= [0-9]+"));
        var refused = await Assert.ThrowsAsync<BackendException>(() => pair.Onnx.GenerateAsync(grammar, CancellationToken.None));
        Assert.Contains("grammar", refused.Message, StringComparison.Ordinal);

        // The session is still usable after both.
        var ok = await pair.Onnx.GenerateAsync(new GenerationRequest(PromptRenderer.Render(Arith, Arith.Items[0]), Arith.Generation), CancellationToken.None);
        Assert.Equal(Arith.Items[0].Target, ok.Text);
    }

    [Fact]
    public async Task Load_records_threads_folder_size_template_and_the_onnx_runtime_genai_was_built_for()
    {
        await using var session = await ExportedArithModel.LoadOnnxAsync(pair.Folder, threads: 2, chatTemplate: ChatTemplateMode.Auto);
        var info = session.LoadInfo;
        Assert.Equal("onnx-genai", info.Backend);
        Assert.Equal("2", info.EffectiveSettings["threads"]);
        Assert.Equal("cpu", info.EffectiveSettings["execution_provider"]);
        Assert.Equal(Directory.EnumerateFiles(pair.Folder).Sum(f => new FileInfo(f).Length), info.FileSizeBytes);
        Assert.True(info.ResidentMemoryAfterLoadBytes > 0 && info.LoadTime > TimeSpan.Zero);
        // The export has no chat template: auto falls back to plain text and says so.
        Assert.StartsWith("auto->none", info.ChatTemplate, StringComparison.Ordinal);
        // GenAI 0.20.0 asks the native library for ONNX Runtime 1.32's API: a build that ships another fails to load.
        Assert.Equal("0.20.0", info.Versions["Microsoft.ML.OnnxRuntimeGenAI"]);
        Assert.Equal("1.32.0", info.Versions["onnxruntime"]);
        Assert.Equal(info.Versions, new OnnxGenAiBackendProvider().Versions);
    }

    [Fact]
    public async Task Auto_uses_the_folder_s_chat_template_and_none_feeds_plain_text()
    {
        var folder = pair.CopyFolder("chat");
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["chat_template"] = "{% for message in messages %}Q: {{ message['content'] }}\n{% endfor %}{% if add_generation_prompt %}A: {% endif %}";
        File.WriteAllText(configPath, config.ToJsonString());
        var prompt = new RenderedPrompt([new ChatMessage("user", "70+57=")], "70+57=");
        var request = new GenerationRequest(prompt, Arith.Generation);

        await using var auto = await ExportedArithModel.LoadOnnxAsync(folder, chatTemplate: ChatTemplateMode.Auto);
        Assert.Equal("tokenizer_config.json", auto.LoadInfo.ChatTemplate);
        Assert.Equal("Q: 70+57=\nA: ", (await auto.GenerateAsync(request, CancellationToken.None)).PromptText);

        await using var none = await ExportedArithModel.LoadOnnxAsync(folder, chatTemplate: ChatTemplateMode.None);
        Assert.Equal("none", none.LoadInfo.ChatTemplate);
        Assert.Equal("70+57=", (await none.GenerateAsync(request, CancellationToken.None)).PromptText);
    }

    [Fact]
    public async Task A_folder_without_genai_config_is_a_model_load_error_naming_the_folder()
    {
        var folder = pair.CopyFolder("no-config");
        File.Delete(Path.Combine(folder, "genai_config.json"));
        var provider = new OnnxGenAiBackendProvider();
        var entry = ExportedArithModel.Entry(ModelFormat.Onnx, folder);

        var load = await Assert.ThrowsAsync<ModelLoadException>(() => provider.Backend.LoadAsync(entry, folder, CancellationToken.None));
        Assert.Contains($"'{folder}' has no genai_config.json", load.Message, StringComparison.Ordinal);
        var describe = await Assert.ThrowsAsync<ModelLoadException>(() => provider.DescribeAsync(entry, folder, CancellationToken.None));
        Assert.Equal(load.Message, describe.Message);

        var file = Path.Combine(folder, "model.onnx");
        var notAFolder = await Assert.ThrowsAsync<ModelLoadException>(() => provider.DescribeAsync(entry, file, CancellationToken.None));
        Assert.Contains($"'{file}' is a file", notAFolder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_model_onnx_is_a_model_load_error_with_the_folder_and_genai_s_reason()
    {
        var folder = pair.CopyFolder("corrupt");
        var model = Path.Combine(folder, "model.onnx");
        var bytes = File.ReadAllBytes(model);
        File.WriteAllBytes(model, bytes.AsSpan(0, bytes.Length / 3).ToArray());
        var entry = ExportedArithModel.Entry(ModelFormat.Onnx, folder);

        // Describing reads only the config; the load is what finds the broken graph.
        var description = await new OnnxGenAiBackendProvider().DescribeAsync(entry, folder, CancellationToken.None);
        Assert.True(description.Capabilities.Has(BackendAbilities.Generate | BackendAbilities.LogLikelihood | BackendAbilities.TokenDistributions));
        Assert.False(description.Capabilities.Has(BackendAbilities.BatchedGeneration));
        Assert.Equal(EnergyScope.WorkerProcess, description.Capabilities.Energy);

        var error = await Assert.ThrowsAsync<ModelLoadException>(() => new OnnxGenAiBackend().LoadAsync(entry, folder, CancellationToken.None));
        output.WriteLine(error.Message);
        Assert.Contains($"could not load '{folder}' (", error.Message, StringComparison.Ordinal);
        Assert.Contains("model.onnx", error.Message, StringComparison.Ordinal);
    }
}
