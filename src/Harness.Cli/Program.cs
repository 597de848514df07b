using Harness.Cli;

return await HarnessApp.RunAsync(args);
