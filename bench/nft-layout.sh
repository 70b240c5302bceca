#!/usr/bin/env bash
# nftables layouts for 10,000 sandboxes (issue 15): the cost of one sandbox's create, policy swap and removal
# with N sandboxes loaded, in today's per-sandbox chains (A), shared interval maps carrying rule ids (B), shared
# verdict maps that accept (C), the same with goto verdicts (Cg) and hash maps of masked keys carrying rule ids
# (D); validate-flag probes on A; load times; and a
# sketch of the packet path (UDP ping-pong, untracked, so every packet walks the policy).
#
#   sudo bench/nft-layout.sh [SIZES] [SAMPLES] [LAYOUTS]    (defaults 10,1000,10000  100  A,B,C,Cg,D)
#
# As root. Everything runs in three throwaway namespaces named nftlayout-PID-{fw,sbx,up}, deleted by exact name on
# exit, also on failure; the machine's own namespace and its ruleset are never touched. Prints Markdown tables;
# the raw samples go to $NFT_LAYOUT_OUT (default: a temporary file, named at the end). NFT_LAYOUT_PACKET=0 skips
# the packet sketch; NFT_LAYOUT_ARGS passes more options to bench/nft_layout/main.py (see its --help).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib/pingpong.sh"
sizes="${1:-10,1000,10000}"
samples="${2:-100}"
layouts="${3:-A,B,C,Cg,D}"

[ "$(id -u)" -eq 0 ] || { echo "nft-layout.sh: needs root (it makes network namespaces)" >&2; exit 1; }
for tool in ip nft strace python3 sockperf; do
    command -v "$tool" >/dev/null || { echo "nft-layout.sh: needs $tool" >&2; exit 1; }
done

fw="nftlayout-$$-fw"     # the host side: our table, the forward path
sbx="nftlayout-$$-sbx"   # the new sandbox's side of its link
up="nftlayout-$$-up"     # a server behind the uplink, 192.168.1.10
work="$(mktemp -d)"
server=""
cleanup() {
    local ns
    set +e
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null
        wait "$server" 2>/dev/null
    fi
    for ns in "$fw" "$sbx" "$up"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

ip netns add "$fw"
nsx "$fw" ip link set lo up
nsx "$fw" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

packet="${NFT_LAYOUT_PACKET:-1}"
ns_arg=()
if [ "$packet" = 1 ]; then
    ip netns add "$sbx"
    ip netns add "$up"
    pingpong_topology "$fw" "$sbx" "$up"
    server=$pingpong_server
    ns_arg=(--ns-a "$sbx")
fi

out="${NFT_LAYOUT_OUT:-$(mktemp --suffix=.json)}"
nsx "$fw" python3 -B "$here/nft_layout/main.py" --work "$work" --sizes "$sizes" --samples "$samples" \
    --layouts "$layouts" --out "$out" "${ns_arg[@]}" ${NFT_LAYOUT_ARGS:-}
echo
echo "raw samples: $out"
