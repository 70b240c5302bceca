# Helpers for probe scripts in the ArcBox test guest. Each prints one line the tests parse:
#   ARCBOX-PROBE <name> ok|fail [detail]
# Every network probe is bounded by timeout (busybox wget -T crashes; nothing may hang the guest).

result() { if [ "$2" = 0 ]; then echo "ARCBOX-PROBE $1 ok${3:+ $3}"; else echo "ARCBOX-PROBE $1 fail${3:+ $3}"; fi; }

# tcp NAME HOST PORT: a TCP connection is accepted and the server's first line comes back.
tcp() {
    out="$(echo probe | timeout 4 socat -T3 - "TCP:$2:$3,connect-timeout=3" 2>/dev/null)"
    [ -n "$out" ]; result "$1" $? "$(echo "$out" | head -1)"
}

# udp NAME HOST PORT: a datagram to an echo server comes back.
udp() {
    out="$(echo probe | timeout 4 socat -T2 - "UDP:$2:$3" 2>/dev/null)"
    [ -n "$out" ]; result "$1" $? "$(echo "$out" | head -1)"
}

# icmp NAME HOST: an echo request is answered.
icmp() { timeout 4 ping -c 1 -W 2 "$2" >/dev/null 2>&1; result "$1" $?; }

# dns NAME QUERY: the resolver in /etc/resolv.conf answers with an address. Up to three queries, as a stub resolver
# retries: on a loaded host the guest's single emulated CPU can let busybox nslookup time out. The server's own
# "Address: 10.0.0.1:53" line is not an answer.
dns() {
    for attempt in 1 2 3; do
        out="$(timeout 6 nslookup "$2" 2>/dev/null | awk '/^Address/ && !/:53$/ && !/#53/ {print $NF}' | tail -1)"
        [ -n "$out" ] && break
    done
    [ -n "$out" ]; result "$1" $? "$out"
}

# serve PORT: answers every TCP connection on PORT with "guest <port>" (in the background).
serve() { socat "TCP-LISTEN:$1,fork,reuseaddr" "SYSTEM:echo guest $1" >/dev/null 2>&1 & }


# until_tcp NAME HOST PORT ok|fail SECONDS: retries a TCP probe every half second until it gives the wanted
# result (a policy change the test makes while the guest waits); reports the last result.
until_tcp() {
    end=$(( $(date +%s) + $5 ))
    while :; do
        out="$(echo probe | timeout 2 socat -T1 - "TCP:$2:$3,connect-timeout=1" 2>/dev/null)"
        if [ -n "$out" ]; then got=ok; else got=fail; fi
        [ "$got" = "$4" ] && break
        [ "$(date +%s)" -ge "$end" ] && break
        sleep 0.5
    done
    [ "$got" = ok ]; result "$1" $?
}
