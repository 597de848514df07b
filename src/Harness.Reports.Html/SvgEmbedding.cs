using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Harness.Reports.Html;

/// <summary>
/// Turns ScottPlot's standalone SVG into markup that can sit inline in an HTML page, many charts to a page.
/// </summary>
internal static partial class SvgEmbedding
{
    /// <summary>
    /// Drawn in this colour, axes, ticks, labels and grid become <c>currentColor</c>, so one chart follows the page's
    /// text colour in light mode, dark mode and print. No real chart colour is this close to black.
    /// </summary>
    public const string ForegroundSentinel = "#010203";

    /// <param name="svgXml">ScottPlot's SVG document.</param>
    /// <param name="idPrefix">Unique in the page: ScottPlot numbers its clip paths from a process-wide counter, so two
    /// charts can share an id (and clip each other) and the same chart differs between two renders.</param>
    /// <param name="description">Read out by screen readers in place of the drawing.</param>
    public static string Inline(string svgXml, string idPrefix, string description)
    {
        // Parsing proves the markup is well-formed XML: text the chart carries (model ids) cannot open an element.
        var document = XDocument.Parse(svgXml);
        var root = document.Root ?? throw new InvalidOperationException("ScottPlot returned an SVG without a root element.");

        // HTML parses inline <svg> into the SVG namespace by itself; dropping the declarations keeps the page free of
        // any URL that is not a resource it loads.
        foreach (var element in root.DescendantsAndSelf())
        {
            element.Attributes().Where(a => a.IsNamespaceDeclaration).Remove();
            element.Name = element.Name.LocalName;
            foreach (var attribute in element.Attributes().Where(a => a.Name.Namespace != XNamespace.None).ToList())
            {
                attribute.Remove();
                element.SetAttributeValue(attribute.Name.LocalName, attribute.Value);
            }
        }

        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var element in root.Descendants().Where(e => e.Attribute("id") is not null))
        {
            var renamed = string.Create(CultureInfo.InvariantCulture, $"{idPrefix}-{ids.Count + 1}");
            ids[element.Attribute("id")!.Value] = renamed;
            element.SetAttributeValue("id", renamed);
        }

        foreach (var attribute in root.DescendantsAndSelf().Attributes().ToList())
        {
            var value = attribute.Value;
            if (value.Contains(ForegroundSentinel, StringComparison.OrdinalIgnoreCase))
            {
                value = value.Replace(ForegroundSentinel, "currentColor", StringComparison.OrdinalIgnoreCase);
            }

            if (value.Contains('#', StringComparison.Ordinal))
            {
                value = Reference().Replace(value, m => ids.TryGetValue(m.Groups[2].Value, out var id) ? m.Groups[1].Value + id : m.Value);
            }

            // Skia ends glyph position lists with ", "; browsers report that as an attribute parse error.
            if (attribute.Name.LocalName is "x" or "y" && (value.EndsWith(' ') || value.EndsWith(',')))
            {
                value = value.TrimEnd(' ', ',');
            }

            attribute.Value = value;
        }

        var width = root.Attribute("width")?.Value ?? "600";
        var height = root.Attribute("height")?.Value ?? "300";
        root.SetAttributeValue("viewBox", $"0 0 {width} {height}");
        root.SetAttributeValue("role", "img");
        root.SetAttributeValue("aria-label", description);
        root.SetAttributeValue("class", "chart");
        return root.ToString(SaveOptions.DisableFormatting);
    }

    [GeneratedRegex(@"(url\(#|^#)([A-Za-z0-9_\-]+)")]
    private static partial Regex Reference();
}
