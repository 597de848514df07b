using System.Globalization;
using System.Net;

namespace Harness.Reports.Html;

/// <summary>Encoding and number formats. Every number goes through the invariant culture.</summary>
internal static class HtmlText
{
    /// <summary>Model ids, reasons and host names are untrusted: everything written as text goes through here.</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static string Percent(double value, string format = "0.0") =>
        (value * 100).ToString(format, CultureInfo.InvariantCulture) + "%";

    public static string Fixed(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

    public static string Number(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    public static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";

    // Three significant digits, never exponent notation: joules per token can be 0.000123.
    public static string Sig(double value)
    {
        if (value == 0 || double.IsNaN(value) || double.IsInfinity(value))
        {
            return value.ToString(CultureInfo.InvariantCulture);
        }

        var digits = Math.Clamp(2 - (int)Math.Floor(Math.Log10(Math.Abs(value))), 0, 9);
        return value.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    public static string Bytes(long? bytes)
    {
        if (bytes is not { } b)
        {
            return "–";
        }

        const double KiB = 1024.0;
        return b switch
        {
            >= 1L << 30 => (b / (KiB * KiB * KiB)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
            >= 1L << 20 => (b / (KiB * KiB)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
            >= 1L << 10 => (b / KiB).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
            _ => b.ToString(CultureInfo.InvariantCulture) + " B",
        };
    }

    /// <summary>An enum member as report.md spells it: <c>LoadFailed</c> → <c>loadFailed</c>.</summary>
    public static string Name<T>(T value) where T : struct, Enum
    {
        var name = value.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }
}
