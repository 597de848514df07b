using System.Collections.Immutable;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using Harness.Backends.LlamaSharp;
using Harness.Cli.Output;
using Harness.Core.Backends;
using Harness.Core.Downloads;
using Harness.Core.Gguf;
using Harness.Core.Models;
using Harness.Core.Suites;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class QuantizeSettings : CommandSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("A model id from --models, or the path of an F32/F16 GGUF")]
    public string Input { get; init; } = "";

    [CommandOption("--types <LIST>")]
    [Description("Comma-separated llama.cpp types, e.g. Q8_0,Q4_K_M")]
    public string Types { get; init; } = "Q8_0";

    [CommandOption("--output-dir <DIR>")]
    [Description("Where <base-file-name>-<type>.gguf files go. Default: beside the base file (a downloaded base: the manifest's folder)")]
    public string? OutputDirectory { get; init; }

    [CommandOption("--threads <N>")]
    public int Threads { get; init; } = Environment.ProcessorCount;

    [CommandOption("--models <FILE>")]
    [Description("Manifest that a model id is looked up in; its quantized models are added to it. Default: models.manifest")]
    public string Manifest { get; init; } = "models.manifest";

    [CommandOption("--add-to <FILE>")]
    [Description("For a GGUF path: the manifest to add the quantized models to. Default: none")]
    public string? AddTo { get; init; }

    [CommandOption("--no-manifest")]
    [Description("Add no manifest entries")]
    public bool NoManifest { get; init; }

    [CommandOption("--json")]
    [Description("Print the table's facts as one JSON document on stdout; the log summary and errors go to stderr")]
    public bool Json { get; init; }

    public override ValidationResult Validate()
    {
        if (Threads < 1)
        {
            return ValidationResult.Error("--threads must be at least 1");
        }

        if (AddTo is not null && NoManifest)
        {
            return ValidationResult.Error("--add-to and --no-manifest contradict each other; give one");
        }

        if (AddTo is not null && !QuantizeCommand.IsPath(Input))
        {
            return ValidationResult.Error($"--add-to is for a GGUF path; the quantized models of model '{Input}' go into its own manifest (--models)");
        }

        return ValidationResult.Success();
    }
}

/// <summary>What the user asked for, frozen once from the command line.</summary>
/// <param name="Types">llama.cpp type names as <see cref="LlamaQuantizer.Types"/> spells them.</param>
/// <param name="AddTo">Manifest for the entries of a path base; null: none.</param>
internal sealed record QuantizeOptions(
    string Input,
    ImmutableArray<string> Types,
    string? OutputDirectory,
    int Threads,
    string Manifest,
    string? AddTo,
    bool WriteManifest,
    bool Json);

/// <summary>
/// Quantizes a GGUF with llama.cpp's quantizer, shows what each type costs in bytes and bits per weight and
/// which matrices fell back to another type, and records each result with its lineage in the manifest.
/// </summary>
internal sealed class QuantizeCommand : AsyncCommand<QuantizeSettings>
{
    /// <summary>The model being quantized.</summary>
    /// <param name="Id">Its manifest id, or one made from its file name when it has no entry.</param>
    /// <param name="Backend">Backend settings written in its entry, copied to the quantized entries.</param>
    /// <param name="ManifestPath">Where the quantized entries go; null: nowhere.</param>
    private sealed record Base(
        string FilePath,
        string Sha256,
        string Id,
        bool HasEntry,
        ImmutableArray<KeyValuePair<string, string>> Backend,
        string? ManifestPath,
        string OutputDirectory);

    public override async Task<int> ExecuteAsync(CommandContext context, QuantizeSettings settings, CancellationToken cancellationToken)
    {
        var options = Freeze(settings);
        var loader = new ManifestLoader();
        var model = IsPath(options.Input)
            ? await FromPathAsync(options, loader, cancellationToken)
            : await FromManifestAsync(options, loader, cancellationToken);
        var parameterCount = GgufFacts.Read(model.FilePath).ParameterCount;
        var editor = new ManifestEditor(loader);
        var refusals = new List<ManifestEditException>();

        var table = new Table().AddColumns("type", "file", "size", "file bits/param", "time", "fell back", "manifest id").KeepWhole(0, 6);
        var files = ImmutableArray.CreateBuilder<QuantizedFileJson>();
        // llama.cpp's writer does not create folders and reports a missing one only as a failed open.
        Directory.CreateDirectory(model.OutputDirectory);
        // llama.cpp logs every tensor it converts and warns once per fallback: evidence for a file, not lines for the
        // console, which gets one summary line. The log of the last command replaces the previous one.
        var logPath = Path.Combine(model.OutputDirectory, $"{Path.GetFileNameWithoutExtension(model.FilePath)}-quantize.log");
        var logs = new List<(string Type, QuantizeLogSummary Log, int FellBack)>();
        await using (var log = new StreamWriter(logPath, append: false, new UTF8Encoding(false)))
        {
            foreach (var type in options.Types)
            {
                var output = Path.Combine(model.OutputDirectory, $"{Path.GetFileNameWithoutExtension(model.FilePath)}-{type.ToLowerInvariant()}.gguf");
                if (string.Equals(Path.GetFullPath(output), model.FilePath, StringComparison.Ordinal))
                {
                    throw new InputFileException(model.FilePath, null, $"quantizing to {type} would overwrite the input; rename it or give --output-dir");
                }

                await log.WriteLineAsync($"== harness quantize {model.FilePath} to {type}: {output}");
                QuantizationResult result;
                try
                {
                    result = await LlamaQuantizer.QuantizeAsync(model.FilePath, output, type, options.Threads, log, cancellationToken);
                }
                catch (ModelLoadException ex)
                {
                    throw new ModelLoadException($"{ex.Message} (llama.cpp's log: {RelativeToCurrent(logPath)})", ex);
                }

                var written = GgufReader.Read(output);
                var bitsPerWeight = result.OutputBytes * 8.0 / Math.Max(1, parameterCount);
                var fallback = LlamaFileType.NamedTensorType(type) is { } named ? QuantizedTensors.FindFallback(written, named) : null;
                logs.Add((result.Type, result.Log, fallback?.FellBack ?? 0));

                var manifestCell = "-";
                string? manifestId = null, manifestError = null, manifestEntry = null;
                var replaced = false;
                if (model.ManifestPath is { } manifestPath)
                {
                    var entry = Entry(model, manifestPath, output, result, bitsPerWeight, QuantizedTensors.Histogram(written), fallback);
                    try
                    {
                        replaced = editor.AddOrReplace(manifestPath, entry).Replaced;
                        manifestId = entry.Id;
                        manifestCell = Markup.Escape(entry.Id) + (replaced ? " (replaced)" : "");
                    }
                    catch (ManifestEditException ex)
                    {
                        refusals.Add(ex);
                        (manifestError, manifestEntry) = (ex.Message, ex.EntryText);
                        manifestCell = "[red]not written (below)[/]";
                    }
                }

                files.Add(new QuantizedFileJson(
                    result.Type, RelativeToCurrent(output), result.OutputBytes, bitsPerWeight, result.Duration.TotalSeconds,
                    fallback is null ? null : new QuantizeFallbackJson(fallback.FellBack, fallback.WeightCount, fallback.Summary),
                    new QuantizeLogJson(result.Log.Warnings, result.Log.ReportedFallbacks, result.Log.ReportedTensors),
                    manifestId, replaced, manifestError, manifestEntry));
                table.AddRow(
                    Markup.Escape(result.Type),
                    Markup.Escape(RelativeToCurrent(output)),
                    string.Create(CultureInfo.InvariantCulture, $"{result.OutputBytes / 1024.0:F1} KiB"),
                    string.Create(CultureInfo.InvariantCulture, $"{bitsPerWeight:F2}"),
                    string.Create(CultureInfo.InvariantCulture, $"{result.Duration.TotalSeconds:F1} s"),
                    fallback is null ? "-" : $"[yellow]{Markup.Escape(fallback.Summary)}[/]",
                    manifestCell);
            }
        }

        // stdout is the result (the table, or with --json one document); what went wrong goes to stderr.
        var errors = ConsoleLayout.StandardError();
        var summary = QuantizeLogSummary.ConsoleLine(logs, RelativeToCurrent(logPath));
        if (options.Json)
        {
            Console.Out.WriteLine(new QuantizeJson(
                RelativeToCurrent(model.FilePath), model.Id, model.ManifestPath is { } manifestFile ? RelativeToCurrent(manifestFile) : null,
                RelativeToCurrent(logPath), files.ToImmutable()).Serialize());
            errors.WriteLine(summary);
        }
        else
        {
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine(summary);
        }

        foreach (var refusal in refusals)
        {
            errors.MarkupLineInterpolated($"[red]error:[/] {refusal.Message}");
            errors.WriteLine("Add this entry to its models: list yourself:");
            // Raw, not through the console's line wrapping: this text is meant to be pasted.
            Console.Error.Write(refusal.EntryText);
            Console.Error.Flush();
        }

        return refusals.Count == 0 ? ExitCodes.Success : ExitCodes.BadInput;
    }

    private static string RelativeToCurrent(string path) => Path.GetRelativePath(Environment.CurrentDirectory, path);

    /// <summary>A path names an existing file or looks like one; anything else is a manifest id.</summary>
    internal static bool IsPath(string input) =>
        File.Exists(input)
        || input.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
        || input.Contains('/', StringComparison.Ordinal)
        || input.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static QuantizeOptions Freeze(QuantizeSettings settings)
    {
        var types = settings.Types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (types.Length == 0)
        {
            throw new ModelLoadException($"--types names no type; known: {string.Join(", ", LlamaQuantizer.Types.Keys)}");
        }

        // Every name is checked before the first (slow) quantization, and spelled as llama.cpp does.
        var canonical = types.Select(t => LlamaQuantizer.Types.Keys.FirstOrDefault(k => string.Equals(k, t, StringComparison.OrdinalIgnoreCase))
            ?? throw new ModelLoadException($"unknown quantization type '{t}'; known: {string.Join(", ", LlamaQuantizer.Types.Keys)}"));
        return new QuantizeOptions(
            settings.Input, [.. canonical.Distinct(StringComparer.Ordinal)], settings.OutputDirectory, settings.Threads,
            settings.Manifest, settings.AddTo, !settings.NoManifest, settings.Json);
    }

    private static async Task<Base> FromManifestAsync(QuantizeOptions options, ManifestLoader loader, CancellationToken cancellationToken)
    {
        var manifest = loader.Load(options.Manifest);
        var entry = manifest.Models.FirstOrDefault(m => m.Id == options.Input)
            ?? throw new InputFileException(manifest.FilePath, null,
                $"no model with id '{options.Input}' and no such file; known ids: {string.Join(", ", manifest.Models.Select(m => m.Id))}");
        if (entry.Format != ModelFormat.Gguf)
        {
            throw new InputFileException(manifest.FilePath, entry.Line, $"model '{entry.Id}' is not a GGUF model; llama.cpp quantizes only GGUF");
        }

        var manifestDirectory = Path.GetDirectoryName(manifest.FilePath)!;
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var resolved = await ModelResolver.Create(http, HarnessCache.FromEnvironment()).ResolveAsync(entry, manifestDirectory, null, cancellationToken);
        var backend = new ManifestEditor(loader).ExplicitBackend(await File.ReadAllTextAsync(manifest.FilePath, cancellationToken), manifest.FilePath, entry.Id);
        // A downloaded base lives in the cache, which may be deleted at any time: its quantized files do not go there.
        var outputDirectory = options.OutputDirectory
            ?? (entry.Source.Path is not null ? Path.GetDirectoryName(resolved.ResolvedPath)! : manifestDirectory);
        return new Base(resolved.ResolvedPath, resolved.FileSha256, entry.Id, HasEntry: true, backend,
            options.WriteManifest ? manifest.FilePath : null, Path.GetFullPath(outputDirectory));
    }

    private static async Task<Base> FromPathAsync(QuantizeOptions options, ManifestLoader loader, CancellationToken cancellationToken)
    {
        var filePath = Path.GetFullPath(options.Input);
        if (!File.Exists(filePath))
        {
            throw new InputFileException(filePath, null, "file not found");
        }

        var sha256 = await new FileHasher(HarnessCache.FromEnvironment().HashesDirectory).Sha256Async(filePath, cancellationToken);
        var outputDirectory = Path.GetFullPath(options.OutputDirectory ?? Path.GetDirectoryName(filePath)!);
        if (options.AddTo is null)
        {
            return new Base(filePath, sha256, IdFromFileName(filePath), HasEntry: false, [], null, outputDirectory);
        }

        // The path may be a model the manifest already lists; then the lineage names that entry.
        var manifest = loader.Load(options.AddTo);
        var manifestDirectory = Path.GetDirectoryName(manifest.FilePath)!;
        var entry = manifest.Models.FirstOrDefault(m =>
            m.Source.Path is not null && string.Equals(Path.GetFullPath(m.Source.Path, manifestDirectory), filePath, StringComparison.Ordinal));
        if (entry is null)
        {
            return new Base(filePath, sha256, IdFromFileName(filePath), HasEntry: false, [], manifest.FilePath, outputDirectory);
        }

        var backend = new ManifestEditor(loader).ExplicitBackend(await File.ReadAllTextAsync(manifest.FilePath, cancellationToken), manifest.FilePath, entry.Id);
        return new Base(filePath, sha256, entry.Id, HasEntry: true, backend, manifest.FilePath, outputDirectory);
    }

    private static NewManifestEntry Entry(
        Base model, string manifestPath, string output, QuantizationResult result, double bitsPerWeight, string tensorTypes, QuantizationFallback? fallback)
    {
        var manifestDirectory = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        string Relative(string path) => Path.GetRelativePath(manifestDirectory, path).Replace('\\', '/');
        var lineage = new QuantizationLineage(
            model.Id,
            model.Sha256,
            model.HasEntry ? null : Relative(model.FilePath),
            result.Type,
            result.OutputBytes,
            bitsPerWeight,
            LlamaQuantizer.Name,
            tensorTypes,
            fallback?.MetadataValue);
        var baseName = model.HasEntry ? model.Id : Path.GetFileName(model.FilePath);
        return new NewManifestEntry(
            $"{model.Id}-{result.Type.ToLowerInvariant()}",
            Relative(output),
            ModelFormat.Gguf,
            $"{baseName} quantized to {result.Type} by llama.cpp",
            model.Backend,
            lineage.ToMetadata());
    }

    /// <summary>A manifest id from a file name: lowercase, with anything an id may not hold turned into '-'.</summary>
    private static string IdFromFileName(string filePath)
    {
        var id = new StringBuilder();
        foreach (var c in Path.GetFileNameWithoutExtension(filePath).ToLowerInvariant())
        {
            id.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' ? c : '-');
        }

        var text = id.ToString().TrimStart('.', '_', '-');
        return text.Length > 0 ? text : "model";
    }
}
