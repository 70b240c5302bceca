# Sourced by bench scripts (nft-layout.sh, nft-tuples.sh): a sandbox link and an uplink for a UDP ping-pong through
# a forward chain.
#
# pingpong_topology FW SBX UP: in three existing namespaces, the sandbox "new" (10.0.255.250, MAC
# 02:00:0a:00:ff:fa, as bench/nft_layout/layouts.py has it) in SBX on link ab-new of FW, whose address on that link
# is 10.0.0.1, and a sockperf server at 192.168.1.10 in UP behind FW's uplink 192.168.1.1. IPv6 is off in SBX and UP.
# Sets pingpong_server to the server's pid; the caller stops it and deletes the namespaces.
pingpong_topology() {
    local fw="$1" sbx="$2" up="$3" ns
    for ns in "$sbx" "$up"; do
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    ip netns exec "$fw" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
    ip netns exec "$fw" ip link add ab-new type veth peer name eth0 netns "$sbx"
    ip netns exec "$sbx" ip link set eth0 address 02:00:0a:00:ff:fa up
    ip netns exec "$sbx" ip addr add 10.0.255.250/16 dev eth0
    ip netns exec "$sbx" ip route add default via 10.0.0.1
    ip netns exec "$fw" ip link set ab-new up
    ip netns exec "$fw" ip addr add 10.0.0.1/32 dev ab-new
    ip netns exec "$fw" ip route add 10.0.255.250/32 dev ab-new
    ip netns exec "$fw" ip link add up0 type veth peer name eth0 netns "$up"
    ip netns exec "$fw" ip link set up0 up
    ip netns exec "$fw" ip addr add 192.168.1.1/24 dev up0
    ip netns exec "$up" ip link set eth0 up
    ip netns exec "$up" ip addr add 192.168.1.10/24 dev eth0
    ip netns exec "$up" ip route add 10.0.0.0/16 via 192.168.1.1
    ip netns exec "$up" sockperf server -i 192.168.1.10 -p 5201 >/dev/null 2>&1 &
    pingpong_server=$!
    sleep 1
}
