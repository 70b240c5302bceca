using ArcBox.Bench;

var what = args.FirstOrDefault() ?? "compile";
var runs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
return what switch
{
    "compile" => CompileBench.Run(runs, load: ArcBox.Testing.Root.WhyNot("nft", "ip") is null),
    "datapath" => DatapathBench.Run(runs),
    "dns" => DnsBench.Run(runs),
    "forward" => ForwardBench.Run(runs),
    "vm" => VmBench.Run(runs),
    "observability" => ObservabilityBench.Run(runs, args.Length > 2 ? args[2] : null),
    "change" => ChangeBench.Run(runs, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 30,
        [.. (args.Length > 3 ? args[3] : "10,1000,10000").Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))]),
    "control" => ControlPlaneBench.Run(runs, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1000, args.Length > 3 ? args[3] : "both"),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ArcBox.Bench compile [RUNS] | change [RUNS] [SAMPLES] [SIZES] | control [SAMPLES] [EXISTING] [netlink|libnftables|both] | datapath [RUNS] | dns [RUNS] | forward [RUNS] | vm [RUNS] | observability [RUNS] [bandwidth|logging|flood|stats]");
    return 2;
}
