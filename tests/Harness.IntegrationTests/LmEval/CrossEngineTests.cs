using Harness.Tests.Tasks;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Backends.LlamaSharp;
using Harness.Core.Backends;
using Harness.Core.Suites;
using Harness.IntegrationTests.Cli;
using Harness.IntegrationTests.Llama;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.LmEval;

/// <summary>
/// The harness's per-choice log-likelihoods against an independent llama.cpp: node-llama-cpp's prebuilt CPU build
/// (tests/crosscheck, its own tokenizer call, one forward pass per choice from an empty cache, log-softmax in doubles
/// in JavaScript). The two share no code above llama.cpp and are different llama.cpp versions (LLamaSharp 0.30.0 bundles
/// c0c7e14; node-llama-cpp 3.22.1 bundles the release it calls v0.5.0, commit de3ff81).
/// </summary>
[Trait("Category", "Model")]
public sealed class CrossEngineTests(ITestOutputHelper output)
{
    /// <summary>
    /// Largest difference allowed between the engines' sums, in nats. Same weights and same tokens leave only float
    /// rounding, which differs by llama.cpp version, CPU kernel and attention path (the harness runs flash attention "auto"
    /// and decodes the context once and the choices as a separate batch; the script uses plain attention and one pass per
    /// choice). Measured on these items (docs/benchmarks.md): at most 3.5e-6 on llama-2-tiny-random (one layer, F16) and
    /// 1.4e-2 on stories260K (five layers, so rounding, e.g. of the F16 KV cache, compounds; switching the script to flash
    /// attention moves single sums by up to 1e-2 too). 5e-2 is three times the largest measured difference and still far
    /// below any real mistake: a token scored at a wrong position costs whole nats (and the token ids are compared exactly).
    /// </summary>
    private const double ToleranceNats = 5e-2;

    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMinutes(3);

    [RequiresCrossCheckFact(LmEvalTokenizationTests.LlamaTwoTinyRandom)]
    public Task Llama_2_tiny_random_sums_agree_with_node_llama_cpp() => AssertEnginesAgreeAsync(LmEvalTokenizationTests.LlamaTwoTinyRandom);

    [RequiresCrossCheckFact(SharedModels.Stories260K)]
    public Task Stories260K_sums_agree_with_node_llama_cpp() => AssertEnginesAgreeAsync(SharedModels.Stories260K);

    private async Task AssertEnginesAgreeAsync(string modelFile)
    {
        var path = SharedModels.PathOf(modelFile);
        var suite = ArcEasyItems.Suite(ArcEasyItems.Rows);
        var prompts = suite.Items.Select(i => PromptRenderer.Render(suite.Definition.Prompt, i)).ToImmutableArray();
        var node = await RunNodeAsync(path, suite.Items, prompts);

        await using var session = await new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(path, contextSize: 512, batchSize: 512), path, CancellationToken.None);
        var llama = Assert.IsType<LlamaSharpSession>(session);
        var maxDifference = 0.0;
        for (var i = 0; i < suite.Items.Length; i++)
        {
            var request = new LogLikelihoodRequest(prompts[i], suite.Items[i].Choices);
            var tokens = await llama.TokenizeForScoringAsync(request, CancellationToken.None);
            var scored = await llama.ScoreContinuationsAsync(request, CancellationToken.None);
            var other = node[i];

            Assert.Equal(suite.Items[i].Id, other.GetProperty("id").GetString());
            Assert.Equal(string.Join(",", tokens.ContextTokens), string.Join(",", Ints(other.GetProperty("contextTokens"))));
            var otherChoices = other.GetProperty("continuations").EnumerateArray().ToArray();
            Assert.Equal(scored.Continuations.Length, otherChoices.Length);
            for (var c = 0; c < otherChoices.Length; c++)
            {
                Assert.Equal(string.Join(",", tokens.ContinuationTokens[c]), string.Join(",", Ints(otherChoices[c].GetProperty("tokens"))));
                var theirs = otherChoices[c].GetProperty("logLikelihood").GetDouble();
                var ours = scored.Continuations[c].LogProbability;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{modelFile} {suite.Items[i].Id} {JsonSerializer.Serialize(suite.Items[i].Choices[c])}: harness {ours:R}, node-llama-cpp {theirs:R}, diff {Math.Abs(ours - theirs):E2}"));
                Assert.True(Math.Abs(ours - theirs) <= ToleranceNats,
                    string.Create(CultureInfo.InvariantCulture, $"item {suite.Items[i].Id} choice {c}: harness {ours}, node-llama-cpp {theirs}"));
                Assert.Equal(otherChoices[c].GetProperty("greedy").GetBoolean(), scored.Continuations[c].IsGreedy);
                maxDifference = Math.Max(maxDifference, Math.Abs(ours - theirs));
            }

            // The same choice ranks first (acc's answer).
            var oursBest = ArgMax(scored.Continuations.Select(s => s.LogProbability));
            var theirsBest = ArgMax(otherChoices.Select(o => o.GetProperty("logLikelihood").GetDouble()));
            Assert.Equal(theirsBest, oursBest);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{modelFile}: max |harness - node-llama-cpp| = {maxDifference:E2} nats"));
    }

    private static async Task<ImmutableArray<JsonElement>> RunNodeAsync(string modelPath, ImmutableArray<SuiteItem> items, ImmutableArray<RenderedPrompt> prompts)
    {
        var input = Path.GetTempFileName();
        try
        {
            var lines = new StringBuilder();
            for (var i = 0; i < items.Length; i++)
            {
                lines.Append(JsonSerializer.Serialize(new { id = items[i].Id, context = prompts[i].PlainText, continuations = items[i].Choices })).Append('\n');
            }
            await File.WriteAllTextAsync(input, lines.ToString());

            var start = new ProcessStartInfo("node")
            {
                WorkingDirectory = CrossCheck.Folder,
                ArgumentList = { "loglikelihood.mjs", modelPath, input },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
            };
            var result = await HarnessProcess.RunToEndAsync(start, NodeTimeout, "node loglikelihood.mjs");
            Assert.True(result.ExitCode == 0, $"node loglikelihood.mjs exited {result.ExitCode}: {result.Error}");
            return [.. result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
        }
        finally
        {
            File.Delete(input);
        }
    }

    private static ImmutableArray<int> Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    // First maximum wins, as in ModelEvaluator and numpy's argmax.
    private static int ArgMax(IEnumerable<double> values)
    {
        var list = values.ToArray();
        var best = 0;
        for (var i = 1; i < list.Length; i++)
        {
            if (list[i] > list[best])
            {
                best = i;
            }
        }
        return best;
    }
}

/// <summary>
/// tests/crosscheck: the node scripts that check the harness from outside (node-llama-cpp's log-likelihoods,
/// kubernetes-models' validation of the emitted Jobs), ready once .ci/run (or the npm install it runs) has installed them.
/// </summary>
internal static class CrossCheck
{
    public static string Folder => Path.Combine(HarnessProcess.RepositoryRoot, "tests", "crosscheck");

    public static bool Installed => IsInstalled("node-llama-cpp");

    /// <summary>Whether the npm package <paramref name="package"/> is installed in <see cref="Folder"/>.</summary>
    public static bool IsInstalled(string package) => Directory.Exists(Path.Combine(Folder, "node_modules", package));
}

/// <summary>
/// Needs the shared model, the shared ARC-Easy copy and tests/crosscheck installed: skipped with the reason when any is
/// missing, except under <c>CI=true</c>, where the test runs and fails on it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresCrossCheckFactAttribute : FactAttribute
{
    public RequiresCrossCheckFactAttribute(string modelFile)
    {
        var model = SharedModels.PathOf(modelFile);
        var dataset = SharedDatasets.PathOf(ArcEasyItems.Folder);
        if (SharedModels.IsCi)
        {
            return;
        }
        if (!File.Exists(model))
        {
            Skip = $"Shared model {model} is missing (set HARNESS_SHARED_MODELS; under CI=true this test fails instead).";
        }
        else if (!Directory.Exists(dataset))
        {
            Skip = $"Shared dataset {dataset} is missing (set HARNESS_SHARED_DATASETS; under CI=true this test fails instead).";
        }
        else if (!CrossCheck.Installed)
        {
            Skip = $"node-llama-cpp is not installed in {CrossCheck.Folder} (run `npm install --omit=optional --ignore-scripts --no-save` there, as .ci/run does; under CI=true this test fails instead).";
        }
    }
}
