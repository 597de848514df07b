using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Backends.LlamaSharp;
using Harness.Cli.Commands;
using Harness.Core.Backends;
using Harness.Core.Benchmarks;
using Harness.Core.Gguf;
using Harness.Core.Hosting;
using Harness.Core.Models;
using Harness.Core.Suites;
using Spectre.Console;

namespace Harness.Cli.Benchmarking;

/// <summary>A model to measure: its name in the table, its file and the backend options the manifest gives it.</summary>
internal sealed record BenchModel(string Name, string Path, ChatTemplateMode ChatTemplate);

/// <summary>Everything <c>harness bench</c> sweeps, parsed and checked.</summary>
internal sealed record BenchPlan(
    ImmutableArray<BenchModel> Models,
    ImmutableArray<int> Prompts,
    ImmutableArray<int> Generations,
    (int Prompt, int Generate)? PromptAndGenerate,
    ImmutableArray<int> Threads,
    ImmutableArray<int> Batches,
    ImmutableArray<int> Depths,
    ImmutableArray<int> GpuLayers,
    ImmutableArray<int> Parallel,
    ImmutableArray<Suite> Suites,
    int Items,
    int ContextSize,
    int Repetitions,
    int Warmup,
    ImmutableArray<BenchRow> Reference,
    string CommandLine)
{
    public static bool TryParseList(string text, int minimum, out ImmutableArray<int> values)
    {
        var parsed = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < minimum)
            {
                values = [];
                return false;
            }
            parsed.Add(value);
        }
        values = [.. parsed.Distinct()];
        return parsed.Count > 0;
    }

    public static BenchPlan From(BenchSettings s, IEnumerable<string> commandLine)
    {
        ImmutableArray<int> List(string text, int minimum) =>
            TryParseList(text, minimum, out var values) ? values : throw new InvalidOperationException($"unvalidated list '{text}'");

        var models = ImmutableArray.CreateBuilder<BenchModel>();
        foreach (var file in s.ModelFiles)
            models.Add(new BenchModel(System.IO.Path.GetFileNameWithoutExtension(file), System.IO.Path.GetFullPath(file), ChatTemplateMode.None));
        if (s.Models.Length > 0)
        {
            var manifest = new ManifestLoader().Load(s.Manifest);
            var directory = System.IO.Path.GetDirectoryName(manifest.FilePath)!;
            foreach (var id in s.Models)
            {
                var entry = manifest.Models.FirstOrDefault(m => m.Id == id)
                    ?? throw new InputFileException(manifest.FilePath, null, $"no model '{id}'; known: {string.Join(", ", manifest.Models.Select(m => m.Id))}");
                if (entry.Source.Path is null)
                    throw new InputFileException(manifest.FilePath, entry.Line, $"model '{id}' has no local path; run it once (which downloads it) and bench the file with --model-file");
                models.Add(new BenchModel(id, System.IO.Path.GetFullPath(entry.Source.Path, directory), entry.Backend.ChatTemplate));
            }
        }

        var pg = s.PromptAndGenerate is null ? default : List(s.PromptAndGenerate, 1);
        var reference = s.Reference is null ? ImmutableArray<BenchRow>.Empty : ReadReference(s.Reference);
        return new BenchPlan(
            models.ToImmutable(),
            [.. List(s.Prompt, 0).Where(p => p > 0)],
            [.. List(s.Generate, 0).Where(n => n > 0)],
            pg.IsDefault ? null : (pg[0], pg[1]),
            s.Threads is null ? [Environment.ProcessorCount] : List(s.Threads, 1),
            List(s.Batch, 1),
            List(s.Depth, 0),
            List(s.GpuLayers, 0),
            List(s.Parallel, 1),
            [.. s.Suites.Select(SuiteLoader.Load)],
            s.Items,
            s.ContextSize,
            s.Repetitions,
            s.Warmup,
            reference,
            string.Join(' ', commandLine.Skip(1).Prepend("harness")));
    }

    /// <summary>Reads the JSON lines of the raw C-API program into rows named like the harness's.</summary>
    public static ImmutableArray<BenchRow> ReadReference(string path)
    {
        var rows = ImmutableArray.CreateBuilder<BenchRow>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                using var json = JsonDocument.Parse(line);
                var r = json.RootElement;
                int I(string name) => r.GetProperty(name).GetInt32();
                double D(string name) => r.GetProperty(name).GetDouble();
                var model = r.GetProperty("model").GetString()!;
                var test = r.GetProperty("test").GetString()!;
                BenchRow Row(string name, string unit, double mean, double sd, double? ttft = null, double? ttftSd = null) =>
                    new("raw", model, "", 0, 0, name, I("threads"), I("batch"), I("depth"), 0, I("parallel"), I("reps"), unit, mean, sd, ttft, ttftSd);
                rows.Add(test switch
                {
                    "pp" => Row($"pp{I("prompt")}", "t/s", D("pp_tps_mean"), D("pp_tps_sd"), D("ttft_ms_mean"), D("ttft_ms_sd")),
                    "tg" => Row($"tg{I("gen")}", "t/s", D("tg_tps_mean"), D("tg_tps_sd")),
                    "pg" => Row($"pp{I("prompt")}+tg{I("gen")}", "t/s", D("pg_tps_mean"), D("pg_tps_sd"), D("ttft_ms_mean"), D("ttft_ms_sd")),
                    _ => Row(test, "items/s", D("items_per_s_mean"), D("items_per_s_sd")),
                });
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new InputFileException(System.IO.Path.GetFullPath(path), lineNumber, $"not a row of the raw C-API benchmark: {ex.Message}");
            }
        }
        return rows.ToImmutable();
    }
}

/// <summary>Loads each model once per configuration and runs the plan's tests on it, llama-bench style.</summary>
internal sealed class BenchRunner(BenchPlan plan, IAnsiConsole console)
{
    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        var rows = ImmutableArray.CreateBuilder<BenchRow>();
        var versions = LlamaNativeRuntime.StaticVersions();
        var backend = new LlamaSharpBackend(nativeLog: TextWriter.Null);
        var longest = plan.Depths.Max() + Math.Max(
            Math.Max(plan.Prompts.DefaultIfEmpty(1).Max(), 1) + plan.Generations.DefaultIfEmpty(0).Max(),
            (plan.PromptAndGenerate?.Prompt ?? 0) + (plan.PromptAndGenerate?.Generate ?? 0));
        var contextSize = Math.Max(plan.ContextSize, longest);
        foreach (var model in plan.Models)
        {
            var facts = GgufFacts.Read(model.Path);
            foreach (var gpuLayers in plan.GpuLayers)
            foreach (var threads in plan.Threads)
            foreach (var batch in plan.Batches)
            foreach (var parallel in plan.Parallel)
            {
                var entry = new ModelEntry(model.Name, ModelFormat.Gguf, new ModelSource(model.Path, null, null),
                    new BackendOptions(contextSize, threads, Math.Max(batch, parallel), gpuLayers, model.ChatTemplate, parallel),
                    null, ImmutableSortedDictionary<string, string>.Empty, 1);
                await using var session = await backend.LoadAsync(entry, model.Path, cancellationToken);
                versions = session.LoadInfo.Versions;
                BenchRow Row(string test, string unit, IReadOnlyList<double> values, IReadOnlyList<double>? ttft, int depth)
                {
                    var (mean, sd) = BenchStatistics.MeanAndSd(values);
                    var (ttftMean, ttftSd) = ttft is { Count: > 0 } ? BenchStatistics.MeanAndSd(ttft) : (double.NaN, double.NaN);
                    var row = new BenchRow("harness", model.Name, facts.Quantization ?? "?", facts.FileSizeBytes, facts.ParameterCount, test,
                        threads, batch, depth, gpuLayers, parallel, values.Count, unit, mean, sd,
                        ttft is { Count: > 0 } ? ttftMean : null, ttft is { Count: > 0 } ? ttftSd : null);
                    console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                        $"{model.Name} t={threads} b={batch} p={parallel} d={depth} {test}: {mean:F2} ± {sd:F2} {unit}");
                    return row;
                }

                var probe = (IThroughputProbe)session;
                foreach (var depth in plan.Depths)
                {
                    // Prompt tests are single-sequence, as in llama-bench; parallelism applies to generation.
                    if (parallel == 1)
                    {
                        foreach (var prompt in plan.Prompts)
                        {
                            var samples = await MeasureAsync(probe, new ThroughputRequest(prompt, 0, depth, 1), cancellationToken);
                            rows.Add(Row($"pp{prompt}", "t/s", [.. samples.Select(x => x.PromptTokensPerSecond)],
                                [.. samples.Select(x => x.TimeToFirstToken.TotalMilliseconds)], depth));
                        }
                    }
                    foreach (var gen in plan.Generations)
                    {
                        var samples = await MeasureAsync(probe, new ThroughputRequest(0, gen, depth, parallel), cancellationToken);
                        rows.Add(Row($"tg{gen}", "t/s", [.. samples.Select(x => x.GenerationTokensPerSecond)], null, depth));
                    }
                    if (plan.PromptAndGenerate is { } pg && parallel == 1)
                    {
                        var samples = await MeasureAsync(probe, new ThroughputRequest(pg.Prompt, pg.Generate, depth, 1), cancellationToken);
                        rows.Add(Row($"pp{pg.Prompt}+tg{pg.Generate}", "t/s", [.. samples.Select(x => x.CombinedTokensPerSecond)],
                            [.. samples.Select(x => x.TimeToFirstToken.TotalMilliseconds)], depth));
                    }
                }

                foreach (var suite in plan.Suites)
                {
                    var (test, rates, ttfts) = await MeasureSuiteAsync(session, suite, cancellationToken);
                    rows.Add(Row(test, "items/s", rates, ttfts, 0));
                }
            }
        }

        return new BenchReport(DateTimeOffset.UtcNow, plan.CommandLine, HostProbe.Probe(), versions, rows.ToImmutable(), plan.Reference);
    }

    private async Task<List<ThroughputSample>> MeasureAsync(IThroughputProbe probe, ThroughputRequest request, CancellationToken cancellationToken)
    {
        for (var i = 0; i < plan.Warmup; i++)
            await probe.MeasureAsync(request, cancellationToken);
        var samples = new List<ThroughputSample>(plan.Repetitions);
        for (var i = 0; i < plan.Repetitions; i++)
            samples.Add(await probe.MeasureAsync(request, cancellationToken));
        return samples;
    }

    /// <summary>
    /// Items/s of the evaluation's own backend calls on the suite's first items: generate suites through continuous
    /// batching at the session's parallelism (one at a time at 1), multiple-choice suites through prefix reuse.
    /// </summary>
    private async Task<(string Test, List<double> Rates, List<double> TimeToFirstTokenMs)> MeasureSuiteAsync(
        IModelSession session, Suite suite, CancellationToken cancellationToken)
    {
        var items = suite.Items.Take(plan.Items).ToList();
        var prompts = items.Select(item => PromptRenderer.Render(suite, item)).ToList();
        var rates = new List<double>();
        var ttfts = new List<double>();
        for (var rep = -plan.Warmup; rep < plan.Repetitions; rep++)
        {
            var clock = Stopwatch.StartNew();
            var firstTokens = new List<double>();
            if (suite.Request == RequestKind.LogLikelihood)
            {
                var scorer = (ILogLikelihoodScorer)session;
                for (var i = 0; i < items.Count; i++)
                {
                    var result = await scorer.ScoreContinuationsAsync(new LogLikelihoodRequest(prompts[i], items[i].Choices), cancellationToken);
                    firstTokens.Add(result.Timings.TimeToFirstToken.TotalMilliseconds);
                }
            }
            else if (session is IBatchedTextGenerator { ParallelSequences: > 1 } batched)
            {
                var requests = prompts.Select(p => new GenerationRequest(p, suite.Generation)).ToList();
                await foreach (var outcome in batched.GenerateBatchAsync(requests, cancellationToken))
                    firstTokens.Add(outcome.Result?.Timings.TimeToFirstToken.TotalMilliseconds ?? double.NaN);
            }
            else
            {
                foreach (var prompt in prompts)
                {
                    var result = await session.GenerateAsync(new GenerationRequest(prompt, suite.Generation), cancellationToken);
                    firstTokens.Add(result.Timings.TimeToFirstToken.TotalMilliseconds);
                }
            }
            if (rep >= 0)
            {
                rates.Add(items.Count / clock.Elapsed.TotalSeconds);
                ttfts.Add(firstTokens.Where(double.IsFinite).DefaultIfEmpty(0).Average());
            }
        }

        return (suite.Request == RequestKind.LogLikelihood ? "mc-reuse" : $"suite:{suite.Name}", rates, ttfts);
    }

    /// <summary>Writes bench.md, bench.csv and bench.json, plus mc-items.tsv (the raw program's input) for choice suites.</summary>
    public static IReadOnlyList<string> Write(BenchReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        var files = new List<string>
        {
            WriteFile(directory, "bench.md", BenchWriters.Markdown(report)),
            WriteFile(directory, "bench.csv", BenchWriters.Csv(report)),
            WriteFile(directory, "bench.json", BenchWriters.Json(report)),
        };
        return files;
    }

    /// <summary>The rendered context and choices of a multiple-choice suite's first items, one per line, tab-separated and escaped.</summary>
    public static string MultipleChoiceItems(Suite suite, int count)
    {
        static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        var text = new StringBuilder();
        foreach (var item in suite.Items.Take(count))
        {
            var prompt = PromptRenderer.Render(suite, item);
            text.Append(Escape(prompt.PlainText));
            foreach (var choice in item.Choices)
                text.Append('\t').Append(Escape(choice));
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string WriteFile(string directory, string name, string content)
    {
        var path = System.IO.Path.Combine(directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
