#!/usr/bin/env bash
# Regenerates NAME.netlink for every NAME.nft here (or the NAMEs given): the nf_tables messages nft itself sends
# to the kernel for that script, byte for byte, which tests/ArcBox.Netfilter.Tests/Wire/NftCaptureTests.cs compares
# with what our pure encoder writes for the same changes.
#
#   sudo tests/testdata/netlink/capture.sh [NAME...]
#
# Needs root, ip, nft, strace and python3. Each case runs in a throwaway network namespace of its own, removed by
# its exact name afterwards, also on failure; the machine's own namespace and its ruleset are never touched. In it
# the script loads ../golden/default.dual.nft (our base tables and the sandbox "web", network "ab", dual-stack),
# then the lines of NAME.nft before the "#capture" line (what the case needs to exist), then runs the lines after
# it with `nft -f` under strace, whose hex dump of sendmsg(2) is the batch as sent. NAME.netlink gets one message a
# line, from NFNL_MSG_BATCH_BEGIN to NFNL_MSG_BATCH_END: a readable name, then the whole message in hex. Its header
# records the nft, libnftnl and kernel versions; review the diff before committing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
base="$here/../golden/default.dual.nft"

[ "$(id -u)" -eq 0 ] || { echo "capture.sh: needs root (it makes network namespaces)" >&2; exit 1; }
for tool in ip nft strace python3; do
    command -v "$tool" >/dev/null || { echo "capture.sh: needs $tool" >&2; exit 1; }
done

work="$(mktemp -d)"
ns=""
cleanup() {
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

versions="$(nft --version | head -1); libnftnl $(dpkg-query -W -f='${Version}' libnftnl11 2>/dev/null || echo '?'); kernel $(uname -r)"

if [ "$#" -eq 0 ]; then
    set -- $(cd "$here" && ls ./*.nft | sed 's|^\./||; s|\.nft$||')
fi

for name in "$@"; do
    case_file="$here/$name.nft"
    [ -f "$case_file" ] || { echo "capture.sh: no $case_file" >&2; exit 1; }
    grep -qx '#capture' "$case_file" || { echo "capture.sh: $name.nft has no #capture line" >&2; exit 1; }
    sed '/^#capture$/,$d' "$case_file" > "$work/setup.nft"
    sed '1,/^#capture$/d' "$case_file" > "$work/capture.nft"

    ns="abcap-$$-$name"
    ip netns add "$ns"
    ip netns exec "$ns" nft -f "$base"
    ip netns exec "$ns" nft -f "$work/setup.nft"
    ip netns exec "$ns" strace -qq -e trace=sendmsg -e write=all -o "$work/trace" nft -f "$work/capture.nft"
    ip netns del "$ns"
    ns=""

    python3 - "$work/trace" "$here/$name.netlink" "$name" "$versions" <<'PY'
import re, struct, sys

trace, out, name, versions = sys.argv[1:]
data = bytearray()
for line in open(trace):
    # strace's dump: " | 00000  14 00 00 00 10 00 ...  ascii |", 16 bytes a line at columns 10-58.
    if re.match(r"^ \| [0-9a-f]{5}  ", line):
        data += bytes.fromhex(line[10:59].replace(" ", ""))

names = {16: "NFNL_MSG_BATCH_BEGIN", 17: "NFNL_MSG_BATCH_END"}
nft = {0: "NEWTABLE", 2: "DELTABLE", 3: "NEWCHAIN", 5: "DELCHAIN", 6: "NEWRULE", 8: "DELRULE", 9: "NEWSET",
       11: "DELSET", 12: "NEWSETELEM", 14: "DELSETELEM"}
lines = []
offset = 0
while offset + 16 <= len(data):
    length, kind = struct.unpack_from("<IH", data, offset)
    if length < 16 or offset + length > len(data):
        sys.exit(f"{name}: a message of {length} bytes at offset {offset} runs past the {len(data)} captured")
    label = names.get(kind) or ("NFT_MSG_" + nft.get(kind & 0xff, str(kind & 0xff)) if kind >> 8 == 10 else f"type {kind}")
    lines.append(f"{label} {data[offset:offset + length].hex()}")
    offset += (length + 3) & ~3

if not lines or not lines[0].startswith("NFNL_MSG_BATCH_BEGIN") or not lines[-1].startswith("NFNL_MSG_BATCH_END"):
    sys.exit(f"{name}: expected one batch from NFNL_MSG_BATCH_BEGIN to NFNL_MSG_BATCH_END, got {len(lines)} messages")
with open(out, "w") as f:
    f.write(f"# What `nft -f` sent for the commands after #capture in {name}.nft, captured by capture.sh.\n")
    f.write(f"# {versions}\n")
    f.write("".join(l + "\n" for l in lines))
print(f"{name}: {len(lines) - 2} message(s)")
PY
done
