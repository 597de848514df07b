using System.ComponentModel;
using System.Globalization;
using Harness.Forge.Onnx;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class ForgeOnnxSettings : ForgeBranchSettings
{
    [CommandArgument(0, "<GGUF>")]
    [Description("A llama GGUF (F32, F16, BF16, Q8_0 or Q4_0 tensors), e.g. one of the forged models in models/")]
    public string Model { get; init; } = "";

    [CommandOption("--output <DIR>")]
    [Description("Folder to write model.onnx, genai_config.json and the tokenizer files to. Default: <gguf without .gguf>-onnx beside the GGUF")]
    public string? Output { get; init; }

    /// <summary>The folder the export goes to.</summary>
    public string OutputFolder => Output ?? Path.Combine(Path.GetDirectoryName(Model) ?? "", Path.GetFileNameWithoutExtension(Model) + "-onnx");
}

/// <summary>Exports a llama GGUF to an ONNX Runtime GenAI folder with the same weights, so the two runtimes can be compared.</summary>
internal sealed class ForgeOnnxCommand : Command<ForgeOnnxSettings>
{
    public override int Execute(CommandContext context, ForgeOnnxSettings settings, CancellationToken cancellationToken)
    {
        var result = OnnxDecoderExporter.Export(settings.Model, settings.OutputFolder, cancellationToken);
        var s = result.Shape;
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"wrote {result.Folder}: llama {s.BlockCount} blocks x {s.EmbeddingLength}, {s.HeadCount} heads ({s.HeadCountKv} key/value) of {s.HeadDimension}, FFN {s.FeedForwardLength}, vocabulary {s.VocabularySize}, context {s.ContextLength}{(s.TiedEmbeddings ? ", tied embeddings" : "")}; weights from {result.SourceTensorTypes} as F32");
        foreach (var file in result.Files)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  {Path.GetFileName(file)}  {new FileInfo(file).Length} bytes");
        }

        return ExitCodes.Success;
    }
}
