#!/usr/bin/env bash
# One sandbox's create, policy swap and removal with N sandboxes loaded, as the daemon's datapath does it (compile,
# the change, netlink encoding, one committed batch): today's per-sandbox chains against the tuple layout (issue 15),
# in one run. As root; everything happens in throwaway namespaces (abt-chg-*), deleted by exact name.
# Usage: bench/datapath-change.sh [RUNS] [SAMPLES] [SIZES]   (defaults 3 30 10,1000,10000; medians of the runs' p50s)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
arcbox_ensure_packages "${ARCBOX_PACKAGES[@]}"
arcbox_ensure_dotnet
[ "$(id -u)" -eq 0 ] || { echo "datapath-change.sh: needs root (it makes network namespaces)" >&2; exit 1; }
dotnet run -c Release --project bench/ArcBox.Bench -- change "${1:-3}" "${2:-30}" "${3:-10,1000,10000}"
