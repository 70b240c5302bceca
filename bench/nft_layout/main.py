"""Driver of bench/nft-layout.sh; runs inside the bench's throwaway namespace (see that script)."""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layouts as L  # noqa: E402
from netlink import Conn, capture  # noqa: E402

TX = ("add", "replace", "remove")


def nft_file(path):
    start = time.perf_counter()
    subprocess.run(["nft", "-f", path], check=True)
    return time.perf_counter() - start


def pct(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def ms(v):
    return round(v * 1000, 3)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def write(work, name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def tx_scripts(lay, work):
    p1, p2 = L.policy("s00001", 1), L.policy("s00002", 2)
    return {"add": write(work, f"{lay.name}-add.nft", lay.add(L.NEW, p1)),
            "replace": write(work, f"{lay.name}-replace.nft", lay.replace(L.NEW, p1, p2)),
            "remove": write(work, f"{lay.name}-remove.nft", lay.remove(L.NEW, p2))}


def drop_tables():
    subprocess.run(["nft", "delete table inet arcbox-ab; delete table arp arcbox-ab"], check=True)


def sockperf(args):
    """Mean and median one-way latency (µs) of UDP ping-pong from the sandbox to a server behind the uplink;
    every packet is untracked, so every one walks the policy as the first packet of a connection does."""
    out = subprocess.run(["ip", "netns", "exec", args.ns_a, "sockperf", "ping-pong", "-i", "192.168.1.10",
                          "-p", "5201", "-t", str(args.packet_seconds), "-m", "64"],
                         check=True, capture_output=True, text=True).stdout
    avg = float(re.search(r"avg-latency=([0-9.]+)", out).group(1))
    p50 = float(re.search(r"percentile 50\.000 =\s+([0-9.]+)", out).group(1))
    return {"avg_us": avg, "p50_us": p50}


NOTRACK = """table inet bench_notrack {
	chain raw { type filter hook prerouting priority raw - 10; policy accept;
		ip saddr 10.0.255.250 udp dport 5201 notrack
		ip saddr 192.168.1.10 udp sport 5201 notrack
	}
}
"""


def packet_sketch(args, work, label, results):
    path = write(work, "notrack.nft", NOTRACK)
    subprocess.run(["nft", "-f", path], check=True)
    try:
        runs = [sockperf(args) for _ in range(args.packet_runs)]
    finally:
        subprocess.run(["nft", "delete table inet bench_notrack"], check=True)
    results.setdefault("packet", {})[label] = runs
    log(f"  packet {label}: " + ", ".join(f"{r['avg_us']:.2f}" for r in runs) + " µs avg")


def measure(args):
    work = args.work
    results = {"meta": {"kernel": os.uname().release, "samples": args.samples, "cell_seconds": args.cell_seconds, "nft_samples": args.nft_samples,
                        "sizes": args.sizes, "layouts": args.layouts,
                        "nft": subprocess.run(["nft", "--version"], capture_output=True, text=True).stdout.strip()},
               "tx": {}, "nft": {}, "load": {}, "probe": {}, "script_bytes": {}}
    conn = Conn()
    if args.ns_a:
        packet_sketch(args, work, "baseline, no table", results)
    for name in args.layouts:
        lay = L.layout(name)
        scripts = tx_scripts(lay, work)
        batches = None
        for n in args.sizes:
            key = f"{name}/{n}"
            sbs, pols = L.sandboxes(n)
            full = write(work, f"{name}-{n}.nft", lay.load(sbs, pols))
            results["load"][key] = nft_file(full)
            results["script_bytes"][key] = os.path.getsize(full)
            os.remove(full)
            log(f"{key}: loaded in {results['load'][key]:.2f} s")
            if batches is None:
                # The batches do not depend on N: the same new sandbox, policy and target at every size.
                batches = {t: capture(scripts[t], os.path.join(work, f"{name}-{t}.trace")) for t in TX}
            if args.ns_a and n in (args.sizes[0], args.sizes[-1]):
                # Before the transaction loops: hundreds of commits leave deferred kernel work (RCU frees,
                # pipapo's old copies) that slowed the next seconds' packets several times over.
                time.sleep(5)
                conn.apply(batches["add"])
                try:
                    packet_sketch(args, work, key, results)
                finally:
                    conn.apply(batches["replace"])  # the captured removal is that of the swapped policy
                    conn.apply(batches["remove"])
            samples = {t: [] for t in TX}
            start = time.monotonic()
            for i in range(args.samples + 3):
                # A slow cell stops after 30 samples once it has run for --cell-seconds.
                if i >= 33 and time.monotonic() - start > args.cell_seconds:
                    break
                for t in TX:
                    d = conn.apply(batches[t])
                    if i >= 3:
                        samples[t].append(d)
            results["tx"][key] = samples
            nft_samples = {t: [] for t in TX}
            for i in range(args.nft_samples):
                for t in TX:
                    nft_samples[t].append(nft_file(scripts[t]))
            results["nft"][key] = nft_samples
            log(f"  batch p50 ms: " + ", ".join(f"{t} {ms(statistics.median(samples[t]))}" for t in TX)
                + " | nft -f p50 ms: " + ", ".join(f"{t} {ms(statistics.median(nft_samples[t]))}" for t in TX))
            if name == "A":
                probe(conn, work, key, results)
            drop_tables()
    if args.ns_a:
        time.sleep(5)
        packet_sketch(args, work, "baseline, no table (again)", results)
    return results


def probe(conn, work, key, results):
    subprocess.run(["nft", "-f", write(work, "probe-setup.nft", L.PROBE_SETUP)], check=True)
    for label, (do, undo) in L.PROBES.items():
        b_do = capture(write(work, "probe-do.nft", do), os.path.join(work, "probe-do.trace"))
        b_undo = capture(write(work, "probe-undo.nft", undo), os.path.join(work, "probe-undo.trace"))
        times = []
        for i in range(33):
            d = conn.apply(b_do)
            conn.apply(b_undo)
            if i >= 3:
                times.append(d)
        results["probe"].setdefault(label, {})[key] = times
        log(f"  probe {label}: p50 {ms(statistics.median(times))} ms")


def table(results):
    lines = []
    sizes = results["meta"]["sizes"]
    lines.append("Netlink batch (what the daemon sends), ms, median / p99:\n")
    lines.append("| layout | existing | create | policy swap | remove | load whole table (s, nft -f) |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for name in results["meta"]["layouts"]:
        for n in sizes:
            k = f"{name}/{n}"
            cells = [f"{ms(statistics.median(results['tx'][k][t]))} / {ms(pct(results['tx'][k][t], 99))}" for t in TX]
            lines.append(f"| {name} | {n:,} | " + " | ".join(cells) + f" | {results['load'][k]:.2f} |")
    lines.append("\nRatio of medians, largest N against smallest:\n")
    lines.append("| layout | create | policy swap | remove | load |")
    lines.append("|---|---:|---:|---:|---:|")
    for name in results["meta"]["layouts"]:
        hi, lo = f"{name}/{sizes[-1]}", f"{name}/{sizes[0]}"
        r = [statistics.median(results["tx"][hi][t]) / statistics.median(results["tx"][lo][t]) for t in TX]
        lines.append(f"| {name} | " + " | ".join(f"{x:.2f}x" for x in r)
                     + f" | {results['load'][hi] / results['load'][lo]:.0f}x |")
    lines.append("\n`nft -f` of the same change (libnftables' cache refresh and parsing included), ms, median / p99:\n")
    lines.append("| layout | existing | create | policy swap | remove |")
    lines.append("|---|---:|---:|---:|---:|")
    for name in results["meta"]["layouts"]:
        for n in sizes:
            k = f"{name}/{n}"
            cells = [f"{ms(statistics.median(results['nft'][k][t]))} / {ms(pct(results['nft'][k][t], 99))}" for t in TX]
            lines.append(f"| {name} | {n:,} | " + " | ".join(cells) + " |")
    if results["probe"]:
        lines.append("\nValidate-flag probes on layout A's table: one batch, ms, median / p99:\n")
        lines.append("| change | " + " | ".join(f"{n:,} existing" for n in sizes) + " |")
        lines.append("|---|" + "---:|" * len(sizes))
        for label, by in results["probe"].items():
            lines.append(f"| {label} | " + " | ".join(
                f"{ms(statistics.median(by[f'A/{n}']))} / {ms(pct(by[f'A/{n}'], 99))}" for n in sizes) + " |")
    if results.get("packet"):
        lines.append("\nPacket path sketch: UDP ping-pong through the forward chain, untracked, one-way µs (mean of runs):\n")
        lines.append("| table | mean | median |")
        lines.append("|---|---:|---:|")
        for label, runs in results["packet"].items():
            lines.append(f"| {label} | {statistics.mean(r['avg_us'] for r in runs):.2f} | "
                         f"{statistics.mean(r['p50_us'] for r in runs):.2f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--sizes", default="10,1000,10000")
    ap.add_argument("--layouts", default=",".join(L.LAYOUTS))
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--nft-samples", type=int, default=30)
    ap.add_argument("--cell-seconds", type=float, default=120)
    ap.add_argument("--ns-a", default="")
    ap.add_argument("--packet-seconds", type=int, default=3)
    ap.add_argument("--packet-runs", type=int, default=3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.layouts = args.layouts.split(",")
    results = measure(args)
    with open(args.out, "w") as f:
        json.dump(results, f)
    print(table(results))


if __name__ == "__main__":
    main()
