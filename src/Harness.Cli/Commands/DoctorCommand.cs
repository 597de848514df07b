using System.ComponentModel;
using System.Text.Json;
using Harness.Cli.Doctor;
using Harness.Core.Serialization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class DoctorSettings : CommandSettings
{
    [CommandOption("--measure <SECONDS>")]
    [Description("Also read every usable energy meter (the estimate when none) for this long and print the power. Default: 0 (skip)")]
    public double MeasureSeconds { get; init; }

    [CommandOption("--json")]
    [Description("Print the findings as JSON")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        MeasureSeconds is >= 0 and <= 600 ? ValidationResult.Success() : ValidationResult.Error("--measure must be between 0 and 600 seconds");
}

/// <summary><c>harness doctor</c>: what this machine has and can do, and the command that enables each missing piece.</summary>
internal sealed class DoctorCommand : AsyncCommand<DoctorSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DoctorSettings settings, CancellationToken cancellationToken)
    {
        var doctor = MachineDoctor.ForThisMachine();
        var diagnosis = await doctor.ExamineAsync(
            TimeSpan.FromSeconds(settings.MeasureSeconds),
            MachineDoctor.CheckBackends,
            cancellationToken);
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(diagnosis, HarnessJson.IndentedOptions));
        }
        else
        {
            using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
            DoctorWriter.Write(diagnosis, writer);
            AnsiConsole.Console.Profile.Out.Writer.Write(writer.ToString());
        }

        return ExitCodes.Success;
    }
}
