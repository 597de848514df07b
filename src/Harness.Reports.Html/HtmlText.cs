using System.Net;

namespace Harness.Reports.Html;

/// <summary>HTML encoding; number formats are the reports' shared ones (<see cref="Harness.Core.Reports.ReportText"/>).</summary>
internal static class HtmlText
{
    /// <summary>Model ids, reasons and host names are untrusted: everything written as text goes through here.</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
}
