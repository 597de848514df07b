using System.Globalization;
using System.Text;

namespace Harness.Tasks.Catalog;

/// <summary>
/// SOURCE.md of a catalogue suite: where every byte came from and how to make the folder again. It depends only on the
/// recipe and the pinned files, never on the machine, date or where the files were read from, so a re-fetch is
/// byte-identical.
/// </summary>
public static class SourceMarkdown
{
    /// <summary>File name of the provenance note in a catalogue suite's folder.</summary>
    public const string FileName = "SOURCE.md";

    public static string Render(IBenchmarkRecipe recipe, string suiteName)
    {
        var source = recipe.Source;
        var m = new StringBuilder();
        m.Append("# ").Append(suiteName).Append(": source\n\n");
        m.Append("Converted by the harness catalogue recipe `").Append(recipe.Name).Append("` (conversion version ")
            .Append(recipe.ConversionVersion.ToString(CultureInfo.InvariantCulture))
            .Append("). Do not edit the files here: change the recipe and fetch again.\n\n");
        m.Append("- Repository: https://github.com/").Append(source.Repository).Append('\n');
        m.Append("- Commit: ").Append(source.Commit).Append('\n');
        m.Append("- Licence: ").Append(source.Licence).Append('\n');
        m.Append("- Follows lm-evaluation-harness: `").Append(recipe.FollowsLmEval).Append("` (https://github.com/EleutherAI/lm-evaluation-harness)\n");
        m.Append("- Conversion version: ").Append(recipe.ConversionVersion.ToString(CultureInfo.InvariantCulture)).Append('\n');
        m.Append('\n');
        m.Append("## Files\n\n");
        // Every declared file, whether read from a local copy, the download cache or (an optional file a local copy
        // lacks) the recipe's own embedded copy of the same bytes: the note is the same however the files were got.
        m.Append("| path | sha256 |\n|---|---|\n");
        foreach (var file in source.Files)
        {
            m.Append("| ").Append(file.Path).Append(" | ").Append(file.Sha256.ToLowerInvariant()).Append(" |\n");
        }

        m.Append("\n## Deliberate differences from lm-evaluation-harness\n\n");
        if (recipe.Differences.IsDefaultOrEmpty)
        {
            m.Append("None.\n");
        }
        else
        {
            foreach (var difference in recipe.Differences)
            {
                m.Append("- ").Append(difference.ReplaceLineEndings(" ")).Append('\n');
            }
        }

        m.Append("\n## Citation\n\n```bibtex\n").Append(source.Citation.ReplaceLineEndings("\n").TrimEnd('\n')).Append("\n```\n");
        m.Append("\n## Reproduce\n\n");
        m.Append("```\nharness tasks fetch ").Append(recipe.Name).Append(" --force\n```\n\n");
        m.Append("downloads the files above from https://raw.githubusercontent.com/").Append(source.Repository).Append('/')
            .Append(source.Commit).Append("/ (or reads them with `--from DIR`), checks every sha256 and writes this folder again, byte for byte.\n");
        return m.ToString();
    }
}
