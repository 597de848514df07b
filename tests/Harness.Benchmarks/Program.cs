using System.Globalization;
using BenchmarkDotNet.Running;
using Harness.Benchmarks.ReportScale;

// dotnet run -c Release --project tests/Harness.Benchmarks -- --filter '*'   (or a class name, e.g. '*Bookkeeping*')
// dotnet run -c Release --project tests/Harness.Benchmarks -- synthetic-runs <results-dir> [--mmlu-items N] [--seed S]
//   writes the two run folders of the report-scale benchmark (docs/performance.md, report-scale.sh).
if (args.Length > 0 && args[0] == "synthetic-runs")
{
    if (args.Length < 2)
    {
        Console.Error.WriteLine("usage: synthetic-runs <results-dir> [--mmlu-items N] [--seed S]");
        return 2;
    }

    var shape = new SyntheticRunShape();
    for (int i = 2; i + 1 < args.Length; i += 2)
    {
        int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        shape = args[i] switch
        {
            "--mmlu-items" => shape with { MmluItems = value },
            "--seed" => shape with { Seed = value },
            _ => throw new ArgumentException($"unknown option {args[i]}"),
        };
    }

    string a = await SyntheticRun.WriteAsync(args[1], "scale-a", shape, CancellationToken.None);
    string b = await SyntheticRun.WriteAsync(args[1], "scale-b", shape with { Variant = 1 }, CancellationToken.None);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{shape.TotalItems} item records in each of\n{a}\n{b}"));
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Harness.Benchmarks.Repository).Assembly).Run(args);
return 0;
