using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace Harness.Core.Suites;

/// <summary>The <c>{{field}}</c> syntax shared by the loader (validation) and the renderer (substitution).</summary>
internal static partial class TemplatePlaceholders
{
    [GeneratedRegex(@"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex PlaceholderRegex();

    /// <summary>Distinct placeholder names in order of first use.</summary>
    public static ImmutableArray<string> Names(string template)
    {
        var names = ImmutableArray.CreateBuilder<string>();
        foreach (Match match in PlaceholderRegex().Matches(template))
        {
            var name = match.Groups[1].Value;
            if (!names.Contains(name))
            {
                names.Add(name);
            }
        }
        return names.ToImmutable();
    }

    /// <summary>
    /// Position of the first <c>{{</c> that does not open a well-formed placeholder, or -1. A stray <c>{{</c> is
    /// almost always a typo such as <c>{{ a }}</c>, which would otherwise reach the model verbatim.
    /// </summary>
    public static int FirstMalformed(string template)
    {
        var valid = PlaceholderRegex().Matches(template).Select(m => m.Index).ToHashSet();
        for (var i = template.IndexOf("{{", StringComparison.Ordinal); i >= 0; i = template.IndexOf("{{", i + 2, StringComparison.Ordinal))
        {
            if (!valid.Contains(i))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Replaces each placeholder once (values are not re-expanded).</summary>
    public static string Substitute(string template, Func<string, string> valueOf) =>
        PlaceholderRegex().Replace(template, match => valueOf(match.Groups[1].Value));
}
