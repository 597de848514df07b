using System.Text;
using System.Text.Json;
using Harness.Core.Models;
using Harness.Core.Serialization.Yaml;
using Harness.Core.Suites;
using Harness.Tests.Models;
using Harness.Tests.Suites;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Harness.Tests.Serialization;

/// <summary>
/// One meaning per YAML file (docs/yaml.md): the manifest and a suite read null, quoted numbers, bad bytes, a BOM and
/// duplicate keys the same way, with file:line in every message.
/// </summary>
public sealed class YamlRulesTests
{
    private static string ManifestWithDescription(string value) => $"version: 1\nmodels:\n  - id: a\n    path: a.gguf\n    description: {value}\n";

    private static ManifestLoader Loader => new(new BackendOptions(2048, 4, 512, 0, ChatTemplateMode.Auto));

    [Theory]
    [InlineData("NULL")]
    [InlineData("Null")]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("")]
    public void Every_spelling_of_null_is_null_in_the_manifest_and_in_a_suite(string spelling)
    {
        var manifest = Loader.Parse(ManifestWithDescription(spelling), "models.manifest");
        using var files = new SuiteTestFiles();
        var suite = SuiteLoader.Load(files.Write(SuiteTestFiles.ValidYaml.Replace("prompt:\n", $"prompt:\n  system: {spelling}\n", StringComparison.Ordinal)));

        Assert.Null(manifest.Models[0].Description);
        Assert.Null(suite.Prompt.System);
    }

    [Fact]
    public void A_quoted_null_is_the_text_in_the_manifest_and_in_a_suite()
    {
        var manifest = Loader.Parse(ManifestWithDescription("\"NULL\""), "models.manifest");
        using var files = new SuiteTestFiles();
        var suite = SuiteLoader.Load(files.Write(SuiteTestFiles.ValidYaml.Replace("prompt:\n", "prompt:\n  system: 'NULL'\n", StringComparison.Ordinal)));

        Assert.Equal("NULL", manifest.Models[0].Description);
        Assert.Equal("NULL", suite.Prompt.System);
    }

    [Fact]
    public void A_quoted_integer_is_text_and_refused_where_a_number_is_required_in_both_with_file_and_line()
    {
        using var folder = new TempFolder();
        var manifestPath = folder.Write("models.manifest", "version: 1\nmodels:\n  - id: a\n    path: a.gguf\n    backend: { context_size: \"512\" }\n");
        using var files = new SuiteTestFiles();
        var directory = files.Write(SuiteTestFiles.ValidYaml.Replace("max_tokens: 4", "max_tokens: \"4\"", StringComparison.Ordinal));

        var manifestError = Assert.Throws<InputFileException>(() => Loader.Load(manifestPath));
        var suiteError = Assert.Throws<InputFileException>(() => SuiteLoader.Load(directory));

        Assert.StartsWith($"{manifestPath}:5: ", manifestError.Message, StringComparison.Ordinal);
        Assert.Contains("'context_size' must be an integer, got the quoted text \"512\"", manifestError.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{files.YamlPath()}:9: ", suiteError.Message, StringComparison.Ordinal);
        Assert.Contains("generation.max_tokens must be an integer, not the quoted text \"4\"", suiteError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_an_error_with_its_line_in_the_manifest_the_suite_and_the_items()
    {
        using var folder = new TempFolder();
        var manifestPath = Path.Combine(folder.Path, "models.manifest");
        File.WriteAllBytes(manifestPath, [.. "version: 1\nmodels:\n  - id: a\n    path: a"u8, 0xFF, .. ".gguf\n"u8]);
        using var files = new SuiteTestFiles();
        var suiteDirectory = files.Write();
        File.WriteAllBytes(files.YamlPath(), WithBadByteFor('#', SuiteTestFiles.ValidYaml.Replace("\"a demo\"", "\"a #demo\"", StringComparison.Ordinal) + "\n"));
        using var itemFiles = new SuiteTestFiles();
        var itemsDirectory = itemFiles.Write();
        File.WriteAllBytes(itemFiles.ItemsPath(), WithBadByteFor('#', SuiteTestFiles.ValidItems.Replace("\"4\"", "\"#\"", StringComparison.Ordinal) + "\n"));

        var manifestError = Assert.Throws<InputFileException>(() => Loader.Load(manifestPath));
        var suiteError = Assert.Throws<InputFileException>(() => SuiteLoader.Load(suiteDirectory));
        var itemsError = Assert.Throws<InputFileException>(() => SuiteLoader.Load(itemsDirectory));

        Assert.Equal((manifestPath, 4), (manifestError.FilePath, manifestError.Line));
        Assert.Equal((files.YamlPath(), 4), (suiteError.FilePath, suiteError.Line));
        Assert.Equal((itemFiles.ItemsPath(), 2), (itemsError.FilePath, itemsError.Line));
        Assert.All([manifestError, suiteError, itemsError], e => Assert.Contains("not valid UTF-8", e.Problem, StringComparison.Ordinal));
    }

    /// <summary>The text as UTF-8 with each <paramref name="marker"/> replaced by 0xC3 followed by ASCII, which is not UTF-8.</summary>
    private static byte[] WithBadByteFor(char marker, string text) =>
        [.. Encoding.UTF8.GetBytes(text).Select(b => b == (byte)marker ? (byte)0xC3 : b)];

    [Fact]
    public void A_utf8_byte_order_mark_is_allowed_and_utf16_is_refused_in_both()
    {
        using var folder = new TempFolder();
        var manifestText = "version: 1\nmodels:\n  - id: a\n    path: a.gguf\n";
        var withBom = Path.Combine(folder.Path, "bom.manifest");
        File.WriteAllBytes(withBom, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(manifestText)]);
        var utf16 = Path.Combine(folder.Path, "utf16.manifest");
        File.WriteAllBytes(utf16, [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(manifestText)]);
        using var files = new SuiteTestFiles();
        var directory = files.Write();
        File.WriteAllBytes(files.YamlPath(), [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(files.YamlPath())]);
        using var utf16Files = new SuiteTestFiles();
        var utf16Directory = utf16Files.Write();
        File.WriteAllBytes(utf16Files.YamlPath(), [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(File.ReadAllText(utf16Files.YamlPath()))]);

        Assert.Equal("a", Assert.Single(Loader.Load(withBom).Models).Id);
        Assert.Equal("demo", SuiteLoader.Load(directory).Name);
        Assert.Contains("UTF-16", Assert.Throws<InputFileException>(() => Loader.Load(utf16)).Message, StringComparison.Ordinal);
        Assert.Contains("UTF-16", Assert.Throws<InputFileException>(() => SuiteLoader.Load(utf16Directory)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_key_is_named_with_its_line_in_both()
    {
        using var folder = new TempFolder();
        var manifestPath = folder.Write("models.manifest", "version: 1\nmodels:\n  - id: a\n    path: a.gguf\n    id: b\n");
        using var files = new SuiteTestFiles();
        var directory = files.Write(SuiteTestFiles.ValidYaml.Replace("  max_tokens: 4", "  max_tokens: 4\n  max_tokens: 5", StringComparison.Ordinal));

        var manifestError = Assert.Throws<InputFileException>(() => Loader.Load(manifestPath));
        var suiteError = Assert.Throws<InputFileException>(() => SuiteLoader.Load(directory));

        Assert.Equal($"{manifestPath}:5: duplicate key 'id' (each key may appear once in a mapping)", manifestError.Message);
        Assert.Equal($"{files.YamlPath()}:10: duplicate key 'max_tokens' (each key may appear once in a mapping)", suiteError.Message);
    }

    [Theory]
    [InlineData("NULL", YamlScalarKind.Null)]
    [InlineData("~", YamlScalarKind.Null)]
    [InlineData("", YamlScalarKind.Null)]
    [InlineData("TRUE", YamlScalarKind.Boolean)]
    [InlineData("False", YamlScalarKind.Boolean)]
    [InlineData("yes", YamlScalarKind.Text)]
    [InlineData("-12", YamlScalarKind.WholeNumber)]
    [InlineData("+7", YamlScalarKind.WholeNumber)]
    [InlineData("0x1F", YamlScalarKind.WholeNumber)]
    [InlineData("0o17", YamlScalarKind.WholeNumber)]
    [InlineData("1_000", YamlScalarKind.Text)]
    [InlineData("0.5", YamlScalarKind.Real)]
    [InlineData(".5", YamlScalarKind.Real)]
    [InlineData("1e-3", YamlScalarKind.Real)]
    [InlineData(".inf", YamlScalarKind.Real)]
    [InlineData("1.2.3", YamlScalarKind.Text)]
    public void Plain_scalars_resolve_by_the_yaml_1_2_core_schema(string text, YamlScalarKind kind)
    {
        Assert.Equal(kind, YamlScalars.ResolvePlain(text));
        Assert.Equal(YamlScalarKind.Text, YamlScalars.Resolve(new YamlScalarNode(text) { Style = ScalarStyle.DoubleQuoted }));
    }

    [Theory]
    [InlineData("{ a: NULL, b: True, c: 0x1F, d: +5, e: .5, f: \"5\", g: yes, h: 1e3, i: [~, 007] }",
        """{"a":null,"b":true,"c":31,"d":5,"e":0.5,"f":"5","g":"yes","h":1e3,"i":[null,7]}""")]
    public void Values_become_json_by_the_same_rules(string yaml, string json)
    {
        var node = YamlSource.Load(Encoding.UTF8.GetBytes(yaml), (line, problem) => Assert.Fail($"{line}: {problem}"))!;

        var element = YamlScalars.ToJson(node, "args", (line, problem) => Assert.Fail($"{line}: {problem}"));

        Assert.Equal(json, JsonSerializer.Serialize(element));
    }

    [Fact]
    public void A_number_json_cannot_hold_is_reported_with_its_line()
    {
        var node = YamlSource.Load("a: 1\nb: .inf\n"u8, (line, problem) => Assert.Fail($"{line}: {problem}"))!;
        var problems = new List<(int?, string)>();

        var element = YamlScalars.ToJson(node, "args", (line, problem) => problems.Add((line, problem)));

        Assert.Null(element);
        var (reportedLine, text) = Assert.Single(problems);
        Assert.Equal(2, reportedLine);
        Assert.Contains("args.b: '.inf' is not a finite number", text, StringComparison.Ordinal);
    }
}
