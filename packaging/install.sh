#!/usr/bin/env bash
# Installs the built tree (run `make build` first) under $DESTDIR:
#   /usr/lib/vmac/            compiled JS (dist), every native module (our shims nftables, cap,
#                             realtime, sdnotify, conntrack, xdp + its BPF object; netlink and raw-socket in node_modules),
#                             production node_modules only, schema
#   /usr/bin/vmac             -> /usr/lib/vmac/bin/vmac.js
#   /etc/vmac/example.yaml    an annotated service file (never overwritten)
#   /lib/systemd/system/vmac@.service, /usr/lib/ocf/resource.d/vmac/vmac, /usr/share/doc/vmac/
# Used by `make install` (DESTDIR empty: this machine) and `make deb` (DESTDIR: a staging tree).
set -euo pipefail
cd "$(dirname "$0")/.."
DESTDIR="${DESTDIR:-}"
LIB="$DESTDIR/usr/lib/vmac"

SHIMS=(nftables cap realtime sdnotify conntrack xdp)
for f in dist/src/cli/main.js native-shims/nftables/build/Release/vmac_nftables.node native-shims/cap/build/Release/cap.node native-shims/realtime/build/Release/vmac_realtime.node native-shims/sdnotify/build/Release/vmac_sdnotify.node native-shims/conntrack/build/Release/vmac_conntrack.node native-shims/xdp/build/Release/vmac_xdp.node native-shims/xdp/build/Release/vmac_xdp.bpf.o; do
  [ -e "$f" ] || { echo "install: $f is missing: run \`make build\` first" >&2; exit 1; }
done

rm -rf "$LIB"
install -d "$LIB/bin" "$LIB/dist" "$LIB/native-shims"
cp -a dist/src dist/native-shims dist/schema dist/lab "$LIB/dist/"
find "$LIB/dist" -name '*.map' -delete
install -m 0755 bin/vmac.js "$LIB/bin/vmac.js"
for shim in "${SHIMS[@]}"; do
  install -d "$LIB/native-shims/$shim/build/Release"
  install -m 0755 native-shims/$shim/build/Release/*.node "$LIB/native-shims/$shim/build/Release/"
done
# The XDP program the libbpf shim loads (native-shims/xdp.ts finds it beside the addon).
install -m 0644 native-shims/xdp/build/Release/vmac_xdp.bpf.o "$LIB/native-shims/xdp/build/Release/"
install -d "$LIB/schema" && install -m 0644 schema/vmac-config.schema.json "$LIB/schema/"
[ -d lab/bin ] && { install -d "$LIB/lab/bin"; install -m 0755 lab/bin/* "$LIB/lab/bin/"; }
install -m 0644 package.json package-lock.json "$LIB/"
# Production dependencies only: the packages package-lock.json does not mark dev (what
# `npm ci --omit=dev` would install), copied from the already-built node_modules (native builds
# included). No registry access, and no dev package is ever copied.
# (realpath: node_modules may be a symlink to a tree shared with other checkouts.)
MODULES="$(realpath node_modules)"
install -d "$LIB/node_modules"
node -e '
  const lock = JSON.parse(require("fs").readFileSync("package-lock.json", "utf8"));
  for (const [key, p] of Object.entries(lock.packages))
    if (key.startsWith("node_modules/") && !p.dev && !p.devOptional) console.log(key.slice("node_modules/".length));
' | sort | while read -r rel; do
  # Sorted, so a package comes before the ones nested in it ("raw-socket/node_modules/nan").
  dst="$LIB/node_modules/$rel"
  [ -e "$dst" ] && continue
  [ -e "$MODULES/$rel" ] || { echo "install: $rel (a production dependency) is not in node_modules: run \`make setup\`" >&2; exit 1; }
  install -d "$(dirname "$dst")"
  cp -a "$MODULES/$rel" "$dst"
done
# Every native module must load from the installed tree, not from the source tree.
node --input-type=module -e "
  const { probeNativeModule } = await import('$LIB/dist/native-shims/probe.js');
  const { NATIVE_MODULES } = await import('$LIB/dist/src/daemon/preflight.js');
  const bad = NATIVE_MODULES.map((m) => [m, probeNativeModule(m)]).filter(([, r]) => !r.ok);
  for (const [m, r] of bad) console.error('install: native module ' + m + ' does not load from $LIB: ' + r.message);
  process.exit(bad.length ? 1 : 0);"
for dev in tsx esbuild typescript vitest; do
  [ ! -e "$LIB/node_modules/$dev" ] || { echo "install: dev-only package $dev was copied" >&2; exit 1; }
done

install -d "$DESTDIR/usr/bin"
ln -sf ../lib/vmac/bin/vmac.js "$DESTDIR/usr/bin/vmac"
install -d -m 0755 "$DESTDIR/etc/vmac"
[ -e "$DESTDIR/etc/vmac/example.yaml" ] || install -m 0644 examples/web.yaml "$DESTDIR/etc/vmac/example.yaml"
install -d "$DESTDIR/lib/systemd/system"
install -m 0644 packaging/systemd/vmac@.service "$DESTDIR/lib/systemd/system/vmac@.service"
install -d "$DESTDIR/usr/lib/ocf/resource.d/vmac"
install -m 0755 packaging/ocf/vmac "$DESTDIR/usr/lib/ocf/resource.d/vmac/vmac"
install -d "$DESTDIR/usr/share/doc/vmac"
install -m 0644 README.md "$DESTDIR/usr/share/doc/vmac/README.md"
echo "install: vmac installed under ${DESTDIR:-/}"
