#!/usr/bin/env bash
# Installs the built tree (run `make build` first) under $DESTDIR:
#   /usr/lib/vmac/            compiled JS (dist), native shims, production node_modules, schema
#   /usr/bin/vmac             -> /usr/lib/vmac/bin/vmac.js
#   /etc/vmac/example.yaml    an annotated service file (never overwritten)
#   /lib/systemd/system/vmac@.service, /usr/lib/ocf/resource.d/vmac/vmac, /usr/share/doc/vmac/
# Used by `make install` (DESTDIR empty: this machine) and `make deb` (DESTDIR: a staging tree).
set -euo pipefail
cd "$(dirname "$0")/.."
DESTDIR="${DESTDIR:-}"
LIB="$DESTDIR/usr/lib/vmac"

for f in dist/src/cli/main.js native-shims/nftables/build/Release/vmac_nftables.node native-shims/cap/build/Release/cap.node native-shims/sdnotify/build/Release/vmac_sdnotify.node; do
  [ -e "$f" ] || { echo "install: $f is missing: run \`make build\` first" >&2; exit 1; }
done

rm -rf "$LIB"
install -d "$LIB/bin" "$LIB/dist" "$LIB/native-shims"
cp -a dist/src dist/native-shims dist/schema dist/lab "$LIB/dist/"
find "$LIB/dist" -name '*.map' -delete
install -m 0755 bin/vmac.js "$LIB/bin/vmac.js"
for shim in nftables cap sdnotify; do
  install -d "$LIB/native-shims/$shim/build/Release"
  install -m 0755 native-shims/$shim/build/Release/*.node "$LIB/native-shims/$shim/build/Release/"
done
install -d "$LIB/schema" && install -m 0644 schema/vmac-config.schema.json "$LIB/schema/"
[ -d lab/bin ] && { install -d "$LIB/lab/bin"; install -m 0755 lab/bin/* "$LIB/lab/bin/"; }
install -m 0644 package.json package-lock.json "$LIB/"
# Production dependencies only, from the already-built node_modules (native ones included),
# pruned offline: no registry access at install time.
cp -a node_modules "$LIB/node_modules"
(cd "$LIB" && npm prune --omit=dev --no-audit --no-fund --offline >/dev/null)
rm -f "$LIB/node_modules/.vmac-setup-stamp"

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
