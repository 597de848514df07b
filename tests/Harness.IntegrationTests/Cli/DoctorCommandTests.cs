using System.Text.Json;

namespace Harness.IntegrationTests.Cli;

/// <summary><c>harness doctor</c> on this machine, as a user runs it.</summary>
public sealed class DoctorCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Doctor_lists_every_meter_family_and_says_what_a_run_here_would_read()
    {
        using var ws = new HarnessProcess.Workspace();

        var json = await HarnessProcess.RunAsync(ws.Root, Timeout, "doctor", "--json", "--measure", "0.5");
        var text = await HarnessProcess.RunAsync(ws.Root, Timeout, "doctor");

        Assert.True(json.ExitCode == 0, json.Output + json.Error);
        Assert.True(text.ExitCode == 0, text.Output + text.Error);
        using var document = JsonDocument.Parse(json.Output);
        var root = document.RootElement;
        var meters = root.GetProperty("meters").EnumerateArray().ToList();
        Assert.Equal(["rapl", "emi", "ioreport", "powermetrics", "nvml"], meters.Select(m => m.GetProperty("source").GetString()));
        var sources = root.GetProperty("energySources").EnumerateArray().Select(s => s.GetString()).ToList();
        Assert.True(root.GetProperty("backends")[0].GetProperty("available").GetBoolean(), "llama.cpp's CPU library must load here");
        var measurement = Assert.Single(root.GetProperty("measurements").EnumerateArray(), m => m.GetProperty("error").ValueKind == JsonValueKind.Null);
        Assert.True(measurement.GetProperty("window").GetDouble() > 0);

        if (meters.All(m => !m.GetProperty("usable").GetBoolean()))
        {
            // This VM: no meter, so the doctor must say why only the estimate is left, meter by meter.
            Assert.Equal(["estimate"], sources);
            Assert.Contains("can only estimate energy", text.Output, StringComparison.Ordinal);
            Assert.Contains("[no] rapl:", text.Output, StringComparison.Ordinal);
            Assert.Contains("[no] nvml:", text.Output, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("A run here measures energy with", text.Output, StringComparison.Ordinal);
        }
    }
}
