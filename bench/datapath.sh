#!/usr/bin/env bash
# TCP throughput (iperf3) and UDP latency (sockperf) from a sandbox with 1, 1,000 and 10,000 sandboxes loaded,
# against the same topology without firewall and (at 1,000) a linear iptables design. As root.
# Usage: bench/datapath.sh [RUNS]   (default 3; medians of alternating runs)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
arcbox_ensure_packages "${ARCBOX_PACKAGES[@]}" "${ARCBOX_TEST_PACKAGES[@]}"
arcbox_ensure_dotnet
dotnet run -c Release --project bench/ArcBox.Bench -- datapath "${1:-3}"
