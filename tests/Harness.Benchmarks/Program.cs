using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Harness.Benchmarks -- --filter '*'   (or a class name, e.g. '*Bookkeeping*')
BenchmarkSwitcher.FromAssembly(typeof(Harness.Benchmarks.Repository).Assembly).Run(args);
