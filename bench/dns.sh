#!/usr/bin/env bash
# dnsperf against the ArcBox resolver and against dnsmasq, same records, same run: 1,000 local records and
# forwarded names. Queries per second and p50/p99 latency, medians. As root.
# Usage: bench/dns.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
arcbox_ensure_packages "${ARCBOX_PACKAGES[@]}" "${ARCBOX_TEST_PACKAGES[@]}"
arcbox_ensure_dotnet
dotnet run -c Release --project bench/ArcBox.Bench -- dns "${1:-3}"
