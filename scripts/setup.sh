#!/usr/bin/env bash
# Installs everything vmac needs on a fresh Debian 12 machine with Node 20, then builds it.
# Idempotent: safe to run again. Needs root (apt-get, and later namespaces and nftables).
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages:
#   nftables, libnftables-dev   the kernel data path (our libnftables shim links against it)
#   libpcap-dev, build-essential, python3   the `cap` and `raw-socket` addons (node-gyp)
#   iproute2, bridge            namespaces, veth, bridges for the lab
#   conntrack                   connection-preserving hand-over (inspection)
#   netsniff-ng                 trafgen for the data-path benchmark
#   iperf3                      TCP throughput benchmark
#   procps, psmisc              sysctl, kill helpers used by the lab
#   chromium                    headless browser for the dashboard test (driven by playwright-core;
#                               never a downloaded browser)
#   curl                        scrapes the metrics endpoint inside lab namespaces
#   resource-agents             ocf-tester, the OCF shell functions, heartbeat/Dummy (resource tests)
#   fence-agents                fence_* programs the exec fencing agent can run
#   dpkg-dev                    `make deb` (dpkg-deb, dpkg-architecture)
#   libxml2-utils               xmllint, which ocf-tester uses to check the agent's meta-data
#   keepalived, ucarp           the peers `vmac lab compare` measures side by side (run inside lab namespaces only)
#   systemd-container, debootstrap, dpkg-repack   `make test-systemd`: a Debian 12 root booted with
#                               systemd-nspawn, Node 20 repacked from this machine's nodejs package
#   clang, libbpf-dev, linux-libc-dev   the XDP data path (datapath: xdp): clang -target bpf builds
#                               native-shims/xdp/vmac_xdp.bpf.o against the kernel UAPI headers and
#                               libbpf's bpf_helpers.h; our libbpf shim links against libbpf
#   bpftool                     inspecting the attached XDP program and its maps (docs/xdp.md)
PACKAGES=(nftables libnftables-dev libpcap-dev iproute2 conntrack netsniff-ng iperf3 build-essential python3 procps psmisc keepalived ucarp chromium curl resource-agents dpkg-dev libxml2-utils fence-agents systemd-container debootstrap dpkg-repack clang libbpf-dev linux-libc-dev bpftool)
# pacemaker-cli-utils: crm_simulate, Pacemaker's scheduler run offline; the differential test of the
# cluster resource placement (test/unit/crm/crm-diff.test.ts, npm run crm-diff) compares against it.
PACKAGES+=(pacemaker-cli-utils)
# libngtcp2-dev, libngtcp2-crypto-gnutls-dev, libgnutls28-dev, pkg-config, openssl: the QUIC lab's
# client and server (lab/c/quic.c, make -C lab/c builds lab/bin/vmac-quic over ngtcp2 + GnuTLS,
# TLS 1.3) and the lab's throwaway certificate (openssl req).
PACKAGES+=(libngtcp2-dev libngtcp2-crypto-gnutls-dev libgnutls28-dev pkg-config openssl)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies; .npmrc points node-gyp at the installed Node headers, and package.json's
# allowScripts approves the native packages' install scripts so `npm ci` builds them.
npm ci --no-audit --no-fund

# Our native shims, the lab's C helpers, and the TypeScript build.
npx node-gyp rebuild --directory native-shims/nftables --loglevel=warn
# SCHED_FIFO for the heartbeat path (src/util/realtime.ts).
npx node-gyp rebuild --directory native-shims/realtime --loglevel=warn
# ctnetlink (raw netlink, no library): conntrack dumps filtered by the kernel for drains and the UDP hand-over.
npx node-gyp rebuild --directory native-shims/conntrack --loglevel=warn
# sd_notify(3) for the systemd unit (Type=notify, WatchdogSec): Node has no unix datagram sockets.
npx node-gyp rebuild --directory native-shims/sdnotify --loglevel=warn
# Our patched copy of cap 0.2.1 (libpcap): survives its link going down (native-shims/cap/PATCHES.md).
npx node-gyp rebuild --directory native-shims/cap --loglevel=warn
# libbpf: the XDP data path's loader; then its BPF object into the same build/Release (after node-gyp,
# which recreates build/).
npx node-gyp rebuild --directory native-shims/xdp --loglevel=warn
make -C native-shims/xdp
make -C lab/c
npx tsc -p tsconfig.json
echo "setup: done"
