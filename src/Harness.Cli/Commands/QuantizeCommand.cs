using System.ComponentModel;
using System.Globalization;
using Harness.Backends.LlamaSharp;
using Harness.Core.Gguf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class QuantizeSettings : CommandSettings
{
    [CommandArgument(0, "<GGUF>")]
    [Description("The F32/F16 GGUF to quantize")]
    public string Input { get; init; } = "";

    [CommandOption("--types <LIST>")]
    [Description("Comma-separated llama.cpp types, e.g. Q8_0,Q4_0")]
    public string Types { get; init; } = "Q8_0";

    [CommandOption("--output-dir <DIR>")]
    [Description("Where <name>-<type>.gguf files go. Default: beside the input")]
    public string? OutputDirectory { get; init; }

    [CommandOption("--threads <N>")]
    public int Threads { get; init; } = Environment.ProcessorCount;
}

/// <summary>Quantizes a GGUF with llama.cpp's quantizer and shows what each type costs in bytes and bits per weight.</summary>
internal sealed class QuantizeCommand : AsyncCommand<QuantizeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, QuantizeSettings settings, CancellationToken cancellationToken)
    {
        var facts = GgufFacts.Read(settings.Input);
        var directory = settings.OutputDirectory ?? Path.GetDirectoryName(Path.GetFullPath(settings.Input))!;
        var table = new Table().AddColumns("type", "file", "size", "file bits/param", "time");
        foreach (var type in settings.Types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var output = Path.Combine(directory, $"{Path.GetFileNameWithoutExtension(settings.Input)}-{type.ToLowerInvariant()}.gguf");
            var result = await LlamaQuantizer.QuantizeAsync(settings.Input, output, type, settings.Threads, cancellationToken);
            var bitsPerWeight = result.OutputBytes * 8.0 / Math.Max(1, facts.ParameterCount);
            table.AddRow(Markup.Escape(result.Type), Markup.Escape(output),
                string.Create(CultureInfo.InvariantCulture, $"{result.OutputBytes / 1024.0:F1} KiB"),
                string.Create(CultureInfo.InvariantCulture, $"{bitsPerWeight:F2}"),
                string.Create(CultureInfo.InvariantCulture, $"{result.Duration.TotalSeconds:F1} s"));
        }

        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }
}
