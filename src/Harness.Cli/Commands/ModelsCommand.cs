using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Harness.Core.Gguf;
using Harness.Core.Models;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class ModelsSettings : CommandSettings
{
    [CommandOption("--models <FILE>")]
    [Description("Model manifest. Default: models.manifest")]
    public string Manifest { get; init; } = "models.manifest";

    [CommandOption("--json")]
    public bool Json { get; init; }
}

/// <summary>The manifest's models with facts read from their GGUF headers (no weights are loaded).</summary>
internal sealed class ModelsCommand : Command<ModelsSettings>
{
    private sealed record Row(ModelEntry Model, string? Path, GgufFacts? Facts, string? Problem);

    public override int Execute(CommandContext context, ModelsSettings settings, CancellationToken cancellationToken)
    {
        var manifest = new ManifestLoader().Load(settings.Manifest);
        var directory = System.IO.Path.GetDirectoryName(manifest.FilePath)!;
        var rows = manifest.Models.Select(m => Describe(m, directory)).ToList();
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(rows.Select(r => new { r.Model, r.Path, r.Facts, r.Problem }), HarnessJson.IndentedOptions));
            return ExitCodes.Success;
        }

        var table = new Table().AddColumns("id", "arch", "params", "quant", "size", "ctx", "template", "source").KeepWhole(0);
        foreach (var row in rows)
        {
            var f = row.Facts;
            table.AddRow(
                Markup.Escape(row.Model.Id),
                Markup.Escape(f?.Architecture ?? "-"),
                f is null ? "-" : Count(f.ParameterCount),
                Markup.Escape(f?.Quantization ?? "-"),
                f is null ? "-" : Bytes(f.FileSizeBytes),
                f?.ContextLength?.ToString(CultureInfo.InvariantCulture) ?? "-",
                f is null ? "-" : f.HasChatTemplate ? "yes" : "no",
                row.Problem is null ? Markup.Escape(Relative(row.Path)) : $"[red]{Markup.Escape(row.Problem)}[/]");
        }

        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }

    private static Row Describe(ModelEntry model, string manifestDirectory)
    {
        if (model.Backend.Server is { } server)
        {
            // Served: the source is the endpoint; nothing local to read (and no request is made here).
            return new Row(model, server.BaseUrl.ToString(), null, null);
        }

        if (model.Source.Path is null)
        {
            return new Row(model, model.Source.Url?.ToString(), null, "remote (downloaded on first run)");
        }

        var path = System.IO.Path.GetFullPath(model.Source.Path, manifestDirectory);
        if (model.Format == ModelFormat.Onnx)
        {
            return new Row(model, path, null, Core.Downloads.ModelFolder.Problem(path));
        }

        if (!File.Exists(path))
        {
            return new Row(model, path, null, $"missing: {path}");
        }

        try
        {
            return new Row(model, path, GgufFacts.Read(path), null);
        }
        catch (InputFileException ex)
        {
            return new Row(model, path, null, ex.Problem);
        }
    }

    private static string Relative(string? path) =>
        path is null ? "" : Uri.IsWellFormedUriString(path, UriKind.Absolute) ? path : System.IO.Path.GetRelativePath(Environment.CurrentDirectory, path);

    private static string Count(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("F2", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString("F1", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1e3).ToString("F1", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    private static string Bytes(long n) => n >= 1 << 20
        ? (n / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB"
        : (n / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB";
}
