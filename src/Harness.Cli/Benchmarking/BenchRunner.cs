using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Cli.Commands;
using Harness.Core.Backends;
using Harness.Core.Benchmarks;
using Harness.Core.Contention;
using Harness.Core.Gguf;
using Harness.Core.Hosting;
using Harness.Core.Models;
using Harness.Core.Reports;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Spectre.Console;

namespace Harness.Cli.Benchmarking;

/// <summary>A model to measure: its name in the table, its file and the backend options the manifest gives it.</summary>
/// <param name="Kind">The runtime that measures it (the manifest's backend.kind; llamacpp for <c>--model-file</c>).</param>
internal sealed record BenchModel(string Name, string Path, ChatTemplateMode ChatTemplate, BackendKind Kind = BackendKind.LlamaCpp);

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
    string? RawProgram,
    int Rounds,
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
                if (entry.Format == ModelFormat.Served)
                    throw new InputFileException(manifest.FilePath, entry.Line, $"model '{id}' is served (backend.kind {entry.Backend.Kind.ManifestName()}): harness bench measures a local runtime's decode path on synthetic tokens, which a server does not expose");
                if (entry.Source.Path is null)
                    throw new InputFileException(manifest.FilePath, entry.Line, $"model '{id}' has no local path; run it once (which downloads it) and bench the file with --model-file");
                models.Add(new BenchModel(id, System.IO.Path.GetFullPath(entry.Source.Path, directory), entry.Backend.ChatTemplate, entry.Backend.Kind));
            }
        }

        var pg = s.PromptAndGenerate is null ? default : List(s.PromptAndGenerate, 1);
        var raw = s.Raw is null ? null : System.IO.Path.GetFullPath(s.Raw);
        if (raw is not null && !File.Exists(raw))
            throw new InputFileException(raw, null, "the raw C-API program does not exist; build it with tests/Harness.Benchmarks/inference-bench.sh");
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
            raw,
            s.Rounds ?? (raw is null ? 1 : 3),
            string.Join(' ', commandLine.Skip(1).Prepend("harness")));
    }

    /// <summary>One JSON line of the raw C-API program as a row (per-repetition values included).</summary>
    /// <exception cref="InputFileException">Not such a line; names <paramref name="source"/> and <paramref name="lineNumber"/>.</exception>
    public static BenchRow ParseRawLine(string line, string source, int? lineNumber = null)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            var r = json.RootElement;
            int I(string name) => r.GetProperty(name).GetInt32();
            double D(string name) => r.GetProperty(name).GetDouble();
            double? Optional(string name) => r.TryGetProperty(name, out var value) ? value.GetDouble() : null;
            ImmutableArray<double> Values(string name) =>
                r.TryGetProperty(name, out var array) ? [.. array.EnumerateArray().Select(v => v.GetDouble())] : [];
            var model = r.GetProperty("model").GetString()!;
            var test = r.GetProperty("test").GetString()!;
            BenchRow Row(string name, string unit, double mean, double sd, double? ttft = null, double? ttftSd = null) =>
                new("raw", model, "", 0, 0, name, I("threads"), I("batch"), I("depth"), 0, I("parallel"), I("reps"), unit, mean, sd, ttft, ttftSd,
                    Values("values"), ttft is null ? [] : Values("ttft_values"));
            return test switch
            {
                "pp" => Row($"pp{I("prompt")}", "t/s", D("pp_tps_mean"), D("pp_tps_sd"), D("ttft_ms_mean"), D("ttft_ms_sd")),
                "tg" => Row($"tg{I("gen")}", "t/s", D("tg_tps_mean"), D("tg_tps_sd")) with
                {
                    InDecodeMsPerToken = Optional("tg_decode_ms_per_step"), OutsideDecodeUsPerToken = Optional("tg_outside_us_per_step"),
                },
                "pg" => Row($"pp{I("prompt")}+tg{I("gen")}", "t/s", D("pg_tps_mean"), D("pg_tps_sd"), D("ttft_ms_mean"), D("ttft_ms_sd")),
                _ => Row(test, "items/s", D("items_per_s_mean"), D("items_per_s_sd")),
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InputFileException(source, lineNumber, $"not a row of the raw C-API benchmark: {ex.Message}");
        }
    }
}

/// <summary>
/// Loads each model once per configuration and runs the plan's tests on it, llama-bench style. With the raw C-API
/// program (<c>--raw</c>), each test alternates between the two engines for <see cref="BenchPlan.Rounds"/> rounds,
/// so slow drifts of a shared machine hit both alike; every engine's rows pool the repetitions of all rounds.
/// The machine's contention is sampled around each round's timed repetitions and kept with the harness's row.
/// </summary>
/// <param name="backends">The backends in this process (<see cref="Running.HarnessBackends.InProcess"/>): the throughput probe
/// does not cross the worker protocol.</param>
internal sealed class BenchRunner(BenchPlan plan, IAnsiConsole console, BackendRegistry backends, IContentionProbe? contention = null)
{
    private readonly IContentionProbe _contention = contention ?? Harness.Energy.Contention.ContentionProbes.ForThisMachine();

    /// <summary>The warm-up of each test lasts at least this long, so the JIT's background work is done before timing.</summary>
    private static readonly TimeSpan MinimumWarmup = TimeSpan.FromSeconds(1);

    private readonly string _scratch = Directory.CreateTempSubdirectory("harness-bench-").FullName;

    private sealed record Config(BenchModel Model, GgufFacts Facts, int Threads, int Batch, int Parallel, int GpuLayers, int ContextSize);

    /// <param name="InDecodeMs">Generation tests: per repetition, the mean time of one step inside llama_decode.</param>
    /// <param name="OutsideDecodeUs">Generation tests: per repetition, the mean time of one step outside it.</param>
    private sealed record Samples(List<double> Values, List<double> TimeToFirstTokenMs, List<double> InDecodeMs, List<double> OutsideDecodeUs)
    {
        public Samples()
            : this([], [], [], [])
        {
        }
    }

    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await RunCoreAsync(cancellationToken);
        }
        finally
        {
            Directory.Delete(_scratch, recursive: true);
        }
    }

    private static ModelEntry Entry(BenchModel model, BackendOptions options) =>
        new(model.Name, model.Kind == BackendKind.OnnxGenAi ? ModelFormat.Onnx : ModelFormat.Gguf, new ModelSource(model.Path, null, null),
            options, null, ImmutableSortedDictionary<string, string>.Empty, 1);

    private async Task<BenchReport> RunCoreAsync(CancellationToken cancellationToken)
    {
        var rows = ImmutableArray.CreateBuilder<BenchRow>();
        var reference = ImmutableArray.CreateBuilder<BenchRow>();
        // Every model's backend must have a throughput probe: refused before the first measurement, with the backend's reason.
        var providers = new Dictionary<string, IBackendProvider>(StringComparer.Ordinal);
        foreach (var model in plan.Models)
        {
            var described = Entry(model, new BackendOptions(plan.ContextSize, 1, 1, 0, model.ChatTemplate, Kind: model.Kind));
            var provider = backends.For(described);
            var description = await provider.DescribeAsync(described, model.Path, cancellationToken);
            if (description.Capabilities.WhyNot(BackendAbilities.ThroughputProbe) is { } reason)
            {
                throw new InputFileException(model.Path, null,
                    $"model '{model.Name}': its {model.Kind.ManifestName()} backend cannot {BackendCapabilities.Describe(BackendAbilities.ThroughputProbe)} ({reason}); leave it out of harness bench");
            }

            providers[model.Name] = provider;
        }

        var versions = plan.Models.Select(m => providers[m.Name].Versions).FirstOrDefault() ?? ImmutableSortedDictionary<string, string>.Empty;
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
                var config = new Config(model, facts, threads, Math.Max(batch, parallel), parallel, gpuLayers, contextSize);
                var entry = Entry(model, new BackendOptions(contextSize, threads, config.Batch, gpuLayers, model.ChatTemplate, parallel, Kind: model.Kind));
                await using var session = await providers[model.Name].Backend.LoadAsync(entry, model.Path, cancellationToken);
                versions = session.LoadInfo.Versions;
                var probe = (IThroughputProbe)session;
                foreach (var depth in plan.Depths)
                {
                    // Prompt tests are single-sequence, as in llama-bench; parallelism applies to generation.
                    if (parallel == 1)
                    {
                        foreach (var prompt in plan.Prompts)
                        {
                            await CompareAsync(config, $"pp{prompt}", depth, "t/s", rows, reference,
                                (reps, ct) => MeasureAsync(probe, reps, new ThroughputRequest(prompt, 0, depth, 1), s => s.PromptTokensPerSecond, ct),
                                ["pp", "--prompt", I(prompt), "--depth", I(depth)], cancellationToken);
                        }
                    }
                    foreach (var gen in plan.Generations)
                    {
                        await CompareAsync(config, $"tg{gen}", depth, "t/s", rows, reference,
                            (reps, ct) => MeasureAsync(probe, reps, new ThroughputRequest(0, gen, depth, parallel), s => s.GenerationTokensPerSecond, ct),
                            ["tg", "--gen", I(gen), "--depth", I(depth)], cancellationToken);
                    }
                    if (plan.PromptAndGenerate is { } pg && parallel == 1)
                    {
                        await CompareAsync(config, $"pp{pg.Prompt}+tg{pg.Generate}", depth, "t/s", rows, reference,
                            (reps, ct) => MeasureAsync(probe, reps, new ThroughputRequest(pg.Prompt, pg.Generate, depth, 1), s => s.CombinedTokensPerSecond, ct),
                            ["pg", "--prompt", I(pg.Prompt), "--gen", I(pg.Generate), "--depth", I(depth)], cancellationToken);
                    }
                }

                foreach (var suite in plan.Suites)
                {
                    // A partial-scoring suite (one context per choice) has no raw-C counterpart: it is timed as a suite.
                    if (suite.Request == RequestKind.LogLikelihood && suite.Prompt.Continuation is null)
                    {
                        // The raw program scores exactly the items the harness scores, from this file.
                        var items = System.IO.Path.Combine(_scratch, $"mc-items-{suite.Name}.tsv");
                        await File.WriteAllTextAsync(items, MultipleChoiceItems(suite, plan.Items), cancellationToken);
                        var choices = suite.Items.Take(plan.Items).Max(i => i.Choices.Length);
                        await CompareAsync(config, "mc-reuse", 0, "items/s", rows, reference,
                            (reps, ct) => MeasureSuiteAsync(session, suite, reps, ct),
                            parallel >= choices ? ["mc", "--items", items] : null, cancellationToken);
                        if (parallel == 1 && plan.RawProgram is not null)
                        {
                            // The naive baseline (context + choice decoded from scratch each time) exists only as raw C.
                            var naive = await RunRawAsync(config, ["mc", "--items", items, "--naive"], 0, "mc-naive", "items/s", cancellationToken);
                            reference.Add(naive);
                        }
                    }
                    else
                    {
                        await CompareAsync(config, $"suite:{suite.Name}", 0, "items/s", rows, reference,
                            (reps, ct) => MeasureSuiteAsync(session, suite, reps, ct), null, cancellationToken);
                    }
                }
            }
        }

        return new BenchReport(
            DateTimeOffset.UtcNow, plan.CommandLine, HostProbe.Probe(), versions, rows.ToImmutable(), reference.ToImmutable(), ContentionThresholds.Default);
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Warms the harness up, then alternates harness and raw rounds; adds the pooled row of each engine.</summary>
    private async Task CompareAsync(
        Config config, string test, int depth, string unit, ImmutableArray<BenchRow>.Builder rows, ImmutableArray<BenchRow>.Builder reference,
        Func<int, CancellationToken, Task<Samples>> harness, string[]? rawArguments, CancellationToken cancellationToken)
    {
        var pooled = new Samples();
        var warmups = new List<double>();
        var rawRows = new List<BenchRow>();
        ModelContention? busiest = null;
        for (var round = 0; round < plan.Rounds; round++)
        {
            // Every round warms up again, as each run of the raw program does: the other engine ran in between.
            // The warm-up's figures are discarded from the row's statistics but kept in it, as the first calls' evidence.
            if (plan.Warmup > 0)
            {
                var warmup = Stopwatch.StartNew();
                for (var done = 0; done < plan.Warmup || warmup.Elapsed < MinimumWarmup; done++)
                    warmups.AddRange((await harness(1, cancellationToken)).Values);
            }

            // Only the harness's own timed repetitions: the raw program, run in between, would count as another process.
            Samples samples;
            await using (var sampler = ContentionRecorder.Start(_contention, TimeProvider.System, sampleInterval: null))
            {
                samples = await harness(plan.Repetitions, cancellationToken);
                var window = sampler.Finish();
                busiest = busiest is null || Busyness(window) > Busyness(busiest) ? window : busiest;
            }

            pooled.Values.AddRange(samples.Values);
            pooled.TimeToFirstTokenMs.AddRange(samples.TimeToFirstTokenMs);
            pooled.InDecodeMs.AddRange(samples.InDecodeMs);
            pooled.OutsideDecodeUs.AddRange(samples.OutsideDecodeUs);
            if (rawArguments is not null && plan.RawProgram is not null)
                rawRows.Add(await RunRawAsync(config, rawArguments, depth, test, unit, cancellationToken));
        }

        var row = MakeRow("harness", config, test, depth, unit, pooled.Values, pooled.TimeToFirstTokenMs) with
        {
            InDecodeMsPerToken = pooled.InDecodeMs.Count > 0 ? pooled.InDecodeMs.Average() : null,
            OutsideDecodeUsPerToken = pooled.OutsideDecodeUs.Count > 0 ? pooled.OutsideDecodeUs.Average() : null,
            Contention = busiest,
            WarmupValues = [.. warmups],
            Warnings = BenchReliability.Warnings(pooled.Values, warmups.Count, busiest, ContentionThresholds.Default, BenchReliabilityThresholds.Default),
        };
        rows.Add(row);
        var raw = rawRows.Count == 0 ? null : Pool(rawRows);
        if (raw is not null)
            reference.Add(raw);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{config.Model.Name} t={config.Threads} b={config.Batch} p={config.Parallel} d={depth} {test}: {row.ResultText}");
        if (raw is not null)
            line += string.Create(CultureInfo.InvariantCulture, $" | raw C {raw.ResultText} | {row.Mean / raw.Mean:F3}x");
        console.WriteLine(line);
        // Busy-machine reasons are among the warnings, one line each so none is missed in a long sweep.
        foreach (var warning in row.Warnings)
            console.WriteLine($"  {BenchWriters.WarningMark} {warning}");
    }

    private static double Busyness(ModelContention contention) => Math.Max(contention.OtherProcessesShare ?? 0, contention.StealShare ?? 0);

    private static BenchRow MakeRow(string engine, Config config, string test, int depth, string unit, IReadOnlyList<double> values, IReadOnlyList<double> ttft) =>
        WithStatistics(
            new BenchRow(engine, config.Model.Name, config.Facts.Quantization ?? "?", config.Facts.FileSizeBytes, config.Facts.ParameterCount,
                test, config.Threads, config.Batch, depth, config.GpuLayers, config.Parallel, 0, unit, 0, 0, null, null, [], []),
            values, ttft);

    private static BenchRow Pool(List<BenchRow> rounds) =>
        WithStatistics(rounds[0], [.. rounds.SelectMany(r => r.Values)], [.. rounds.SelectMany(r => r.TimeToFirstTokenValues)]) with
        {
            InDecodeMsPerToken = Average(rounds.Select(r => r.InDecodeMsPerToken)),
            OutsideDecodeUsPerToken = Average(rounds.Select(r => r.OutsideDecodeUsPerToken)),
        };

    /// <summary>The row with its repetitions, mean and sample deviation of <paramref name="values"/> and of <paramref name="ttft"/>.</summary>
    private static BenchRow WithStatistics(BenchRow row, IReadOnlyList<double> values, IReadOnlyList<double> ttft)
    {
        var (mean, sd) = BenchStatistics.MeanAndSd(values);
        (double Mean, double StandardDeviation)? first = ttft.Count > 0 ? BenchStatistics.MeanAndSd(ttft) : null;
        return row with
        {
            Repetitions = values.Count, Mean = mean, StandardDeviation = sd,
            TimeToFirstTokenMs = first?.Mean, TimeToFirstTokenSdMs = first?.StandardDeviation,
            Values = [.. values], TimeToFirstTokenValues = [.. ttft],
        };
    }

    private static double? Average(IEnumerable<double?> values)
    {
        var present = values.OfType<double>().ToList();
        return present.Count > 0 ? present.Average() : null;
    }

    /// <summary>Runs the raw C-API program once (its own warm-up and repetitions) with this configuration's settings.</summary>
    private async Task<BenchRow> RunRawAsync(Config config, string[] arguments, int depth, string test, string unit, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(plan.RawProgram!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(config.Model.Path);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in new[]
                 {
                     ("--parallel", config.Parallel), ("--threads", config.Threads), ("--ctx", config.ContextSize), ("--batch", config.Batch),
                     ("--gpu-layers", config.GpuLayers), ("--reps", plan.Repetitions), ("--warmup", Math.Max(1, plan.Warmup)), ("--load-mode", 0),
                 })
        {
            start.ArgumentList.Add(name);
            start.ArgumentList.Add(I(value));
        }
        start.ArgumentList.Add("--label");
        start.ArgumentList.Add(config.Model.Name);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {plan.RawProgram}");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (process.ExitCode != 0 || line is null)
        {
            var said = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(3);
            throw new InvalidOperationException($"the raw C-API program failed (exit {process.ExitCode}) on {test}: {string.Join(" / ", said)}");
        }

        var row = BenchPlan.ParseRawLine(line, config.Model.Path);
        return row with
        {
            Quantization = config.Facts.Quantization ?? "?",
            FileSizeBytes = config.Facts.FileSizeBytes,
            Parameters = config.Facts.ParameterCount,
            GpuLayers = config.GpuLayers,
            Test = test,
            Unit = unit,
            Depth = depth,
        };
    }

    private static async Task<Samples> MeasureAsync(
        IThroughputProbe probe, int repetitions, ThroughputRequest request, Func<ThroughputSample, double> metric, CancellationToken cancellationToken)
    {
        var samples = new Samples();
        for (var i = 0; i < repetitions; i++)
        {
            var sample = await probe.MeasureAsync(request, cancellationToken);
            samples.Values.Add(metric(sample));
            if (request.PromptTokens > 0)
                samples.TimeToFirstTokenMs.Add(sample.TimeToFirstToken.TotalMilliseconds);
            if (request.GeneratedTokens > 0)
            {
                samples.InDecodeMs.Add(sample.GenerationInDecode.TotalMilliseconds / request.GeneratedTokens);
                samples.OutsideDecodeUs.Add((sample.Generation - sample.GenerationInDecode).TotalMicroseconds / request.GeneratedTokens);
            }
        }
        return samples;
    }

    /// <summary>
    /// Items/s of the evaluation's own backend calls on the suite's first items: generate suites through continuous
    /// batching at the session's parallelism (one at a time at 1), multiple-choice suites through prefix reuse.
    /// </summary>
    private async Task<Samples> MeasureSuiteAsync(IModelSession session, Suite suite, int repetitions, CancellationToken cancellationToken)
    {
        var items = suite.Items.Take(plan.Items).ToList();
        var prompts = items.Select(item => PromptRenderer.Render(suite, item)).ToList();
        var samples = new Samples();
        for (var rep = 0; rep < repetitions; rep++)
        {
            var clock = Stopwatch.StartNew();
            var firstTokens = new List<double>();
            if (suite.Request == RequestKind.LogLikelihood)
            {
                var scorer = (ILogLikelihoodScorer)session;
                for (var i = 0; i < items.Count; i++)
                {
                    if (suite.Prompt.Continuation is not null)
                    {
                        // Partial scoring: the evaluator's requests, one per choice's context.
                        ImmutableArray<string> continuation = [PromptRenderer.RenderContinuation(suite.Prompt, items[i])];
                        var first = true;
                        foreach (var context in PromptRenderer.RenderChoiceContexts(suite.Prompt, items[i]))
                        {
                            var partial = await scorer.ScoreContinuationsAsync(new LogLikelihoodRequest(context, continuation), cancellationToken);
                            if (first)
                            {
                                firstTokens.Add(partial.Timings.TimeToFirstToken.TotalMilliseconds);
                                first = false;
                            }
                        }
                        continue;
                    }
                    var result = await scorer.ScoreContinuationsAsync(new LogLikelihoodRequest(prompts[i], items[i].Choices), cancellationToken);
                    firstTokens.Add(result.Timings.TimeToFirstToken.TotalMilliseconds);
                }
            }
            else if (session is IBatchedTextGenerator { ParallelSequences: > 1 } batched)
            {
                var requests = prompts.Select(p => new GenerationRequest(p, suite.Generation)).ToList();
                await foreach (var outcome in batched.GenerateBatchAsync(requests, cancellationToken))
                {
                    if (outcome.Result is { } result)
                        firstTokens.Add(result.Timings.TimeToFirstToken.TotalMilliseconds);
                }
            }
            else
            {
                foreach (var prompt in prompts)
                {
                    var result = await session.GenerateAsync(new GenerationRequest(prompt, suite.Generation), cancellationToken);
                    firstTokens.Add(result.Timings.TimeToFirstToken.TotalMilliseconds);
                }
            }
            samples.Values.Add(items.Count / clock.Elapsed.TotalSeconds);
            samples.TimeToFirstTokenMs.Add(firstTokens.DefaultIfEmpty(0).Average());
        }
        return samples;
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
        AtomicFile.WriteAllText(path, content);
        return path;
    }
}
