#!/usr/bin/env bash
# The VM path: time from `arcbox vm run` to the guest's first successful probe (against plain QEMU booting the
# same guest), and iperf3 from a guest to the internet namespace with ArcBox's tables loaded against removed.
# Usage: bench/vm.sh [RUNS]   (default 5; medians of alternating runs)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
arcbox_ensure_packages "${ARCBOX_PACKAGES[@]}" "${ARCBOX_TEST_PACKAGES[@]}"
arcbox_ensure_dotnet
dotnet run -c Release --project bench/ArcBox.Bench -- vm "${1:-5}"
