#!/usr/bin/env bash
# Throughput and connection rate through a port forward, against a direct connection and a socat relay. As root.
# Usage: bench/forward.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
arcbox_ensure_packages "${ARCBOX_PACKAGES[@]}" "${ARCBOX_TEST_PACKAGES[@]}"
arcbox_ensure_dotnet
dotnet run -c Release --project bench/ArcBox.Bench -- forward "${1:-3}"
