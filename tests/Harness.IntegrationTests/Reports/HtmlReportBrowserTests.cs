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

    /// <summary>
    /// The charts of a crowded report (twelve models of nearly equal cost) as the browser lays them out: no two texts
    /// overlap (labels, ticks, titles, legends), every chart has its title, no dot reaches the frame and the legend
    /// lies outside the data area. The page is probed by a script added to a copy of it (the report itself runs none).
    /// </summary>
    [RequiresChromiumFact]
    public async Task Crowded_charts_have_no_overlapping_text_no_clipped_point_and_legends_outside_the_data()
    {
        Directory.CreateDirectory(Folder);
        var html = HtmlReportWriter.Render(SampleReports.Crowded());
        File.WriteAllText(Path.Combine(Folder, "crowded.html"), html);
        var probe = Path.Combine(Folder, "crowded-probe.html");
        File.WriteAllText(probe, html
            .Replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", StringComparison.Ordinal)
            .Replace("</body>", ProbeScript + "</body>", StringComparison.Ordinal));
        await Screenshot(Path.Combine(Folder, "crowded.html"), "crowded.png", darkMode: false);

        var dom = await HeadlessChromium.RunAsync(probe, darkMode: false, ["--dump-dom", "--window-size=1280,2000"], Timeout);
        Assert.True(dom.ExitCode == 0, dom.Error);
        var start = dom.Output.IndexOf("<pre id=\"probe\">", StringComparison.Ordinal);
        Assert.True(start >= 0, "the probe did not run: " + string.Join('\n', HeadlessChromium.ConsoleLines(dom.Error)));
        var lines = System.Net.WebUtility.HtmlDecode(dom.Output[(start + 16)..dom.Output.IndexOf("</pre>", start, StringComparison.Ordinal)])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine(string.Join('\n', lines));

        Assert.Equal(4, lines.Count(l => l.StartsWith("chart ", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("overlap ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("clipped ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("legend-inside ", StringComparison.Ordinal));
        foreach (var title in (string[])["Pass rate on arith", "Quality against J/item on arith", "Quality against J/item on stories", "Quantization ladder on arith"])
        {
            Assert.Contains($"title {title}", lines);
        }
    }

    // For every chart: each pair of non-empty texts whose boxes overlap, each round marker of the data that is not 2 px
    // inside the data rectangle, each legend entry inside it, and the title (the topmost text).
    private const string ProbeScript = """
        <script>
        const out = [];
        const legendWords = new Set(["sufficient", "insufficient", "undecided", "bar 90.0%", "dominated", "Pareto front", "recommended"]);
        document.querySelectorAll("svg").forEach((svg, n) => {
          out.push("chart " + n);
          const m = svg.getScreenCTM();
          const r = svg.querySelector("clipPath rect");
          const x = +r.getAttribute("x"), y = +r.getAttribute("y"), w = +r.getAttribute("width"), h = +r.getAttribute("height");
          const data = { left: m.a * x + m.e, top: m.d * y + m.f, right: m.a * (x + w) + m.e, bottom: m.d * (y + h) + m.f };
          const texts = [...svg.querySelectorAll("text")].filter(t => t.textContent.trim().length > 0)
            .map(t => ({ text: t.textContent.trim(), box: t.getBoundingClientRect() }));
          for (let i = 0; i < texts.length; i++)
            for (let j = i + 1; j < texts.length; j++) {
              const a = texts[i].box, b = texts[j].box;
              if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
                out.push("overlap " + n + ": " + texts[i].text + " / " + texts[j].text);
            }
          svg.querySelectorAll("g[clip-path] ellipse").forEach(e => {
            const clip = svg.querySelector(e.closest("g[clip-path]").getAttribute("clip-path").slice(4, -1) + " rect");
            if (clip.getAttribute("width") !== r.getAttribute("width") || clip.getAttribute("height") !== r.getAttribute("height")) return;
            const b = e.getBoundingClientRect();
            if (b.left < data.left + 2 || b.right > data.right - 2 || b.top < data.top + 2 || b.bottom > data.bottom - 2)
              out.push("clipped " + n + ": " + JSON.stringify(b));
          });
          texts.filter(t => legendWords.has(t.text)).forEach(t => {
            const cx = (t.box.left + t.box.right) / 2, cy = (t.box.top + t.box.bottom) / 2;
            if (cx > data.left && cx < data.right && cy > data.top && cy < data.bottom) out.push("legend-inside " + n + ": " + t.text);
          });
          const title = texts.reduce((a, b) => (b.box.top < a.box.top ? b : a));
          out.push("title " + title.text);
        });
        const pre = document.createElement("pre");
        pre.id = "probe";
        pre.textContent = out.join("\n");
        document.body.appendChild(pre);
        </script>
        """;

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
