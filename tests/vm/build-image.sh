#!/usr/bin/env bash
# Builds the guest image the VM tests and benchmarks boot: Debian's cloud kernel, and an initramfs of
# busybox-static, the virtio modules, socat and iperf3 (copied from this machine with their libraries) and
# our /init. Usage: build-image.sh OUTDIR. Writes OUTDIR/vmlinuz, OUTDIR/initrd.img and OUTDIR/busybox (the
# static busybox, which tests use to pack probe scripts and as a DHCP client); does nothing when the
# image in OUTDIR was built from the same packages and sources. Needs apt-get (downloads, installs nothing).
set -euo pipefail
out="${1:?usage: build-image.sh OUTDIR}"
mkdir -p "$out" && out="$(cd "$out" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools=(socat iperf3)

for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "build-image: $tool is not installed" >&2; exit 1; }
done

kernel_pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)"
if [ -z "$kernel_pkg" ]; then
    apt-get update -qq >/dev/null
    kernel_pkg="$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)"
fi
[ -n "$kernel_pkg" ] || { echo "build-image: apt knows no linux-image-cloud-amd64" >&2; exit 1; }
versions="$(apt-cache policy "$kernel_pkg" busybox-static | tr -s ' ' | tr '\n' ' ')"
key="$(printf '%s\n' "$versions" "$(cat "$here/build-image.sh" "$here/init" "$here/lib/arcbox-probe.sh")" "$(for t in "${tools[@]}"; do md5sum "$(command -v "$t")"; done)" | md5sum | cut -c1-16)"
if [ -f "$out/.key" ] && [ "$(cat "$out/.key")" = "$key" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -x "$out/busybox" ]; then
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download "$kernel_pkg" busybox-static >download.log 2>&1; then
    apt-get update -qq >/dev/null
    apt-get download "$kernel_pkg" busybox-static >download.log 2>&1 || { cat download.log >&2; exit 1; }
fi
dpkg-deb -x linux-image-*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox

root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,lib/modules,run}
cp busybox/bin/busybox "$root/bin/busybox"
modules="$(echo kernel/lib/modules/*)"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio failover net_failover virtio_net; do
    path="$(find "$modules" -name "$m.ko*" | head -1)"
    [ -n "$path" ] || { echo "build-image: the kernel has no module $m" >&2; exit 1; }
    case "$path" in
        *.xz) xz -dc "$path" >"$root/lib/modules/$m.ko" ;;
        *) cp "$path" "$root/lib/modules/$m.ko" ;;
    esac
done

# Dynamically linked tools, with the libraries and loader they need, at the same paths as on this machine.
for tool in "${tools[@]}"; do
    bin="$(readlink -f "$(command -v "$tool")")"
    mkdir -p "$root/usr/bin" && cp "$bin" "$root/usr/bin/$tool"
    ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
done
install -m 0755 "$here/init" "$root/init"
install -m 0644 "$here/lib/arcbox-probe.sh" "$root/lib/arcbox-probe.sh"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

cp kernel/boot/vmlinuz-* "$out/vmlinuz.next"
(cd "$root" && find . | "$work/busybox/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$out/initrd.img.next"
install -m 0755 busybox/bin/busybox "$out/busybox"
mv "$out/vmlinuz.next" "$out/vmlinuz"
mv "$out/initrd.img.next" "$out/initrd.img"
echo "$key" >"$out/.key"
