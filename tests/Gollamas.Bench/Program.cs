// Gollamas.Bench: micro-benchmarks (BenchmarkDotNet) and the load run behind ./build.sh bench.
//   micro [BenchmarkDotNet args]   model peek/rewrite and route lookup, with allocations
//   load [options]                 direct vs nginx vs gollamas under the same load, same run
//   fleet [options]                the seeded workload on a simulated Ollama fleet through each setup
//   backend --port N               the fast fake Ollama backend the load run starts
return args.Length > 0 ? args[0] switch
{
    "micro" => Gollamas.Bench.Micro.MicroBenchmarks.Run(args[1..]),
    "load" => await Gollamas.Bench.Load.LoadRun.RunAsync(args[1..]),
    "fleet" => await Gollamas.Bench.Fleet.FleetBench.RunAsync(args[1..]),
    "backend" => await Gollamas.Bench.Load.FastBackend.RunAsync(args[1..]),
    _ => Usage(),
} : Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: Gollamas.Bench micro|load|fleet|backend [options]");
    return 2;
}
