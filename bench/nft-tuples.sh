#!/usr/bin/env bash
# What one key shape of the tuple layout (issue 15) costs a packet: UDP ping-pong through a forward chain that does
# K masked-concatenation set lookups that miss (each a different shape, as the base chain's tuples are) before the
# one that admits the packet. Every packet is untracked, so every one walks the chain as a connection's first does.
#
#   sudo bench/nft-tuples.sh [K,K,...] [RUNS]    (defaults 0,8,32,128,512  3)
#
# As root, in three throwaway namespaces nfttuples-PID-{fw,sbx,up}, deleted by exact name on exit, also on failure.
# Prints one Markdown table: median one-way µs of RUNS sockperf runs per K, and the cost per lookup against K=0
# measured in the same run (before and after; the mean of the two).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/pingpong.sh"
counts="${1:-0,8,32,128,512}"
runs="${2:-3}"
[ "$(id -u)" -eq 0 ] || { echo "nft-tuples.sh: needs root (it makes network namespaces)" >&2; exit 1; }
for tool in ip nft sockperf python3; do
    command -v "$tool" >/dev/null || { echo "nft-tuples.sh: needs $tool" >&2; exit 1; }
done

fw="nfttuples-$$-fw"
sbx="nfttuples-$$-sbx"
up="nfttuples-$$-up"
server=""
cleanup() {
    set +e
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    for ns in "$fw" "$sbx" "$up"; do ip netns del "$ns" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

for ns in "$fw" "$sbx" "$up"; do
    ip netns add "$ns"
done
nsx "$fw" ip link set lo up
pingpong_topology "$fw" "$sbx" "$up"
server=$pingpong_server

# K lookups of K different shapes (port prefix 1-16, address prefix 1-32), each set holding one element of another
# sandbox, then the lookup that hits.
table() {
    python3 - "$1" <<'EOF'
import ipaddress, sys
k = int(sys.argv[1])
out = ["table inet tuples {", "  chain raw { type filter hook prerouting priority raw - 10; policy accept;",
       "    ip saddr 10.0.255.250 udp dport 5201 notrack", "    ip saddr 192.168.1.10 udp sport 5201 notrack", "  }"]
rules = []
for i in range(k):
    pm, am = i % 16 + 1, (i // 16) % 32 + 1
    pmask = (0xFFFF << (16 - pm)) & 0xFFFF
    amask = ipaddress.ip_network(f"0.0.0.0/{am}").netmask
    out.append(f"  set s{i} {{ type ifname . inet_proto . inet_service . ipv4_addr; counter; "
               f"elements = {{ \"ab-other\" . 17 . {5201 & pmask} . {ipaddress.ip_address(int(ipaddress.ip_address('192.168.1.10')) & int(amask))} }}; }}")
    rules.append(f"    iifname . meta l4proto . th dport & 0x{pmask:04x} . ip daddr & {amask} @s{i} accept")
out.append('  set hit { type ifname . inet_proto . inet_service . ipv4_addr; counter; elements = { "ab-new" . 17 . 5201 . 192.168.1.10 }; }')
rules.append("    iifname . meta l4proto . th dport . ip daddr @hit accept")
out.append("  chain forward { type filter hook forward priority 0; policy accept;")
out.append('    iifname "ab-new" jump lookup')
out.append("  }")
out.append("  chain lookup {")
out += rules
out.append('    drop')
out.append("  }")
out.append("}")
print("\n".join(out))
EOF
}

measure() {
    nsx "$fw" nft delete table inet tuples 2>/dev/null || true
    table "$1" | nsx "$fw" nft -f -
    local i values=()
    for ((i = 0; i < runs; i++)); do
        values+=("$(nsx "$sbx" sockperf ping-pong -i 192.168.1.10 -p 5201 -t 3 -m 64 | sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p')")
    done
    printf '%s\n' "${values[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

IFS=, read -r -a ks <<<"$counts"
before="$(measure 0)"
declare -A median
for k in "${ks[@]}"; do median[$k]="$(measure "$k")"; done
after="$(measure 0)"
base="$(python3 -c "print(($before + $after) / 2)")"
echo "| lookups that miss (K) | one-way p50 (µs) | per lookup (ns, round trip walks once) |"
echo "|---:|---:|---:|"
echo "| 0 (before / after) | $before / $after | |"
for k in "${ks[@]}"; do
    per="$(python3 -c "k = $k; print('' if k == 0 else f'{(${median[$k]} - $base) * 2 * 1000 / k:.0f}')")"
    echo "| $k | ${median[$k]} | $per |"
done
