#!/usr/bin/env bash
# Bandwidth limits against their configured rate (to 1 gbit), the datapath cost of `log: all`, the daemon's
# CPU during a 100k packets/s drop flood, and reading every counter with 1,000 sandboxes. As root.
# Usage: bench/observability.sh [RUNS] [bandwidth|logging|flood|stats]   (default 3 runs, every part; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
arcbox_ensure_packages "${ARCBOX_PACKAGES[@]}" "${ARCBOX_TEST_PACKAGES[@]}"
arcbox_ensure_dotnet
dotnet run -c Release --project bench/ArcBox.Bench -- observability "${1:-3}" ${2:+"$2"}
