#!/usr/bin/env bash
# Compile time and script size for 1, 1,000 and 10,000 sandboxes; as root also the kernel load time.
# Usage: bench/compile.sh [RUNS]   (default 5; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
arcbox_ensure_packages "${ARCBOX_PACKAGES[@]}"
arcbox_ensure_dotnet
dotnet run -c Release --project bench/ArcBox.Bench -- compile "${1:-5}"
