#!/usr/bin/env bash
# Builds (once) and refreshes the Debian 12 root that `make test-systemd` boots with systemd-nspawn:
#   ROOT (default .cache/systemd-test/bookworm) is debootstrapped once from Debian's mirror and
#   then reused (gitignored); every run installs Node 20 (the host's own nodejs package, repacked:
#   Debian 12 ships Node 18, so an operator adds Node 20 from NodeSource, which is what the host
#   has) and the freshly built vmac .deb into it with dpkg, as an operator would.
# usage: test/systemd/make-root.sh <vmac.deb>
set -euo pipefail
cd "$(dirname "$0")/../.."
DEB=$(realpath "$1")
ROOT=${VMAC_SYSTEMD_ROOT:-$PWD/.cache/systemd-test/bookworm}
MIRROR=${VMAC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# python3, ca-certificates: what the nodejs package depends on.
PKGS=systemd,systemd-sysv,dbus,iproute2,nftables,libnftables1,libpcap0.8,conntrack,util-linux,procps,curl,ca-certificates,python3
if [ ! -e "$ROOT/.vmac-root-ok" ]; then
  rm -rf "$ROOT"; mkdir -p "$(dirname "$ROOT")"
  echo "systemd-test: debootstrap Debian 12 into $ROOT (once; a few minutes)"
  debootstrap --variant=minbase --include="$PKGS" bookworm "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 \
    || { tail -20 "$ROOT.debootstrap.log" >&2; exit 1; }
  # No getty, no network managers: the lab gives the container its link and addresses.
  echo vmac-ct >"$ROOT/etc/hostname"
  touch "$ROOT/.vmac-root-ok"
fi
# Node 20: the host's own nodejs package, repacked from its installed files once (slow: minutes).
NODEVER=$(dpkg-query -W -f='${Version}' nodejs)
NODEDEB="$(dirname "$ROOT")/nodejs_${NODEVER}.deb"
if [ ! -e "$NODEDEB" ]; then
  command -v dpkg-repack >/dev/null || { echo "systemd-test: dpkg-repack is missing (scripts/setup.sh installs it)" >&2; exit 1; }
  TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
  echo "systemd-test: repacking the host's nodejs $NODEVER (once)"
  (cd "$TMP" && nice -n 19 dpkg-repack nodejs >/dev/null 2>&1)
  mv "$TMP"/nodejs_*.deb "$NODEDEB"
fi
if [ "$(chroot "$ROOT" dpkg-query -W -f='${Status} ${Version}' nodejs 2>/dev/null || true)" != "install ok installed $NODEVER" ]; then
  cp "$NODEDEB" "$ROOT/tmp/nodejs.deb"
  chroot "$ROOT" dpkg -i /tmp/nodejs.deb >/dev/null
  rm -f "$ROOT/tmp/nodejs.deb"
fi
cp "$DEB" "$ROOT/tmp/vmac.deb"
chroot "$ROOT" dpkg -i /tmp/vmac.deb >/dev/null
rm -f "$ROOT/tmp/vmac.deb"
echo "systemd-test: $ROOT has node $(chroot "$ROOT" node --version) and vmac $(chroot "$ROOT" dpkg-query -W -f='${Version}' vmac)"
