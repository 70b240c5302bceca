# Sourced by ./arcbox and ./run-tests: installs what ArcBox needs on Debian 12 and builds it when sources changed.
# Everything it creates lives under .build/ in the repository.

ARCBOX_ROOT="${ARCBOX_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
ARCBOX_BUILD="$ARCBOX_ROOT/.build"

# Debian packages the product needs at run time.
ARCBOX_PACKAGES=(nftables libnftables1 iptables iproute2 kmod procps util-linux)

# Debian packages the tests and benchmarks use besides (traffic tools in throwaway namespaces).
ARCBOX_TEST_PACKAGES=(iputils-ping iperf3 sockperf tcpdump python3 python3-scapy dnsmasq-base bind9-dnsutils dnsperf socat qemu-system-x86 xz-utils tmux)

arcbox_log() { printf 'arcbox: %s\n' "$*" >&2; }

# Installs the missing packages among "$@" with apt-get (once per package list; a stamp remembers success).
arcbox_ensure_packages() {
    local stamp="$ARCBOX_BUILD/.packages-$(printf '%s ' "$@" | md5sum | cut -c1-12)"
    [ -f "$stamp" ] && return 0
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
            arcbox_log "missing Debian packages: ${missing[*]}; run once as root to install them"
            return 1
        fi
        arcbox_log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        mkdir -p "$ARCBOX_BUILD"
        apt-get update -qq >"$ARCBOX_BUILD/apt.log" 2>&1 || { cat "$ARCBOX_BUILD/apt.log" >&2; arcbox_log "apt-get update failed"; return 1; }
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$ARCBOX_BUILD/apt.log" 2>&1 || { cat "$ARCBOX_BUILD/apt.log" >&2; arcbox_log "apt-get install ${missing[*]} failed"; return 1; }
    fi
    mkdir -p "$ARCBOX_BUILD" && touch "$stamp"
}

arcbox_ensure_dotnet() {
    if ! command -v dotnet >/dev/null 2>&1; then
        arcbox_log "the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian); 'dotnet' is not on PATH"
        return 1
    fi
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# Builds the CLI into .build/cli unless nothing under src/ changed since the last build.
arcbox_ensure_built() {
    local out="$ARCBOX_BUILD/cli" stamp="$ARCBOX_BUILD/cli/.stamp"
    if [ -f "$stamp" ] && [ -z "$(find "$ARCBOX_ROOT/src" "$ARCBOX_ROOT/Directory.Build.props" "$ARCBOX_ROOT/Directory.Packages.props" "$ARCBOX_ROOT/global.json" \( -name bin -o -name obj \) -prune -o -newer "$stamp" -print -quit 2>/dev/null)" ]; then
        return 0
    fi
    arcbox_ensure_dotnet || return 1
    mkdir -p "$out"
    (
        flock 9
        arcbox_log "building (first use or sources changed)"
        touch "$stamp.next"
        if dotnet build "$ARCBOX_ROOT/src/ArcBox.Cli/ArcBox.Cli.csproj" -c Release -o "$out" --nologo -v quiet -clp:ErrorsOnly >"$ARCBOX_BUILD/build.log" 2>&1; then
            mv "$stamp.next" "$stamp"
        else
            cat "$ARCBOX_BUILD/build.log" >&2
            arcbox_log "build failed (log: $ARCBOX_BUILD/build.log)"
            exit 1
        fi
    ) 9>"$ARCBOX_BUILD/.build.lock"
}
