using Harness.Reports.Html;
using Harness.Tests.Reports;
using SkiaSharp;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.Reports;

/// <summary>
/// report.html in a real browser: it renders (the screenshot is not blank), it follows dark mode, and the browser has
/// nothing to say about it. The page has no script of its own, so any console line is the browser complaining about
/// the page: a blocked load (its Content-Security-Policy forbids every external resource), a parse error, or a script
/// that got in through a model id.
/// </summary>
public class HtmlReportBrowserTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Where the page and its screenshots are left for a person to look at.</summary>
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), "harness-report-screenshots");

    [RequiresChromiumFact]
    public async Task Report_renders_in_light_and_dark_mode_with_no_console_messages()
    {
        Directory.CreateDirectory(Folder);
        var page = Path.Combine(Folder, "report.html");
        // The hostile id proves the encoding in a real parser too: a script that ran or was blocked would log a line.
        var report = SampleReports.Build(oddModelId: "<script>alert(1)</script><img src=x onerror=alert(2)>");
        await using (var stream = File.Create(page))
        {
            await new HtmlReportWriter().WriteAsync(report, stream, CancellationToken.None);
        }

        var light = await Screenshot(page, "report-light.png", darkMode: false);
        var dark = await Screenshot(page, "report-dark.png", darkMode: true);

        Assert.True(light.Background.Red > 200 && light.Background.Green > 200 && light.Background.Blue > 200, $"light background {light.Background}");
        Assert.True(dark.Background.Red < 60 && dark.Background.Green < 60 && dark.Background.Blue < 60, $"dark background {dark.Background}");
        foreach (var shot in new[] { light, dark })
        {
            // Text, tables and four charts in their colours: a blank or unstyled page has a handful of colours.
            Assert.True(shot.DistinctColours > 200, $"{shot.Path}: only {shot.DistinctColours} colours");
            Assert.InRange(shot.ForegroundShare, 0.02, 0.6);
        }

        var dom = await HeadlessChromium.RunAsync(page, darkMode: false, ["--dump-dom"], Timeout);
        Assert.True(dom.ExitCode == 0, dom.Error);
        Assert.Empty(HeadlessChromium.ConsoleLines(dom.Error));
        Assert.Contains("<h2>Answer</h2>", dom.Output, StringComparison.Ordinal);
        // Pass rates, two cost-quality planes, the comparison and the ladder.
        Assert.Equal(5, dom.Output.Split("<svg ").Length - 1);
        Assert.DoesNotContain("<script>alert", dom.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", dom.Output, StringComparison.Ordinal);
    }

    private async Task<Shot> Screenshot(string page, string name, bool darkMode)
    {
        var path = Path.Combine(Folder, name);
        File.Delete(path);
        var run = await HeadlessChromium.RunAsync(page, darkMode, [$"--screenshot={path}", "--window-size=1280,2000"], Timeout);
        Assert.True(run.ExitCode == 0 && File.Exists(path), run.Error);
        Assert.Empty(HeadlessChromium.ConsoleLines(run.Error));
        output.WriteLine($"screenshot: {path}");

        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal(1280, bitmap.Width);
        var background = bitmap.GetPixel(2, 2);
        var colours = new HashSet<uint>();
        long differing = 0;
        for (var y = 0; y < bitmap.Height; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                var pixel = bitmap.GetPixel(x, y);
                colours.Add((uint)pixel);
                if (pixel != background)
                {
                    differing++;
                }
            }
        }

        return new Shot(path, background, colours.Count, (double)differing / (bitmap.Width * bitmap.Height));
    }

    private sealed record Shot(string Path, SKColor Background, int DistinctColours, double ForegroundShare);
}
