#!/usr/bin/env bash
# Create/rm latency (p50/p99) with 0 and 1,000 existing sandboxes, policy swap latency, daemon RSS and idle CPU.
# Usage: bench/control-plane.sh [SAMPLES] [EXISTING] [netlink|libnftables|both]   (defaults 50, 1000, both; as root)
# "both" runs everything twice, nft changes as netlink batches and through libnftables, and compares them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
arcbox_ensure_packages "${ARCBOX_PACKAGES[@]}"
arcbox_ensure_dotnet
dotnet run -c Release --project bench/ArcBox.Bench -- control "${1:-50}" "${2:-1000}" "${3:-both}"
