# vmac — the two commands a newcomer needs:
#   make demo   set up this machine (first time only) and run the 3-node namespace demo
#   make test   set up (first time only), typecheck, lint and run every test (needs root)
SHELL := /bin/bash
STAMP := node_modules/.vmac-setup-stamp
SETUP_INPUTS := scripts/setup.sh package.json package-lock.json native-shims/nftables/nftables_shim.c native-shims/nftables/binding.gyp native-shims/realtime/realtime_shim.c native-shims/realtime/binding.gyp native-shims/sdnotify/sdnotify_shim.c native-shims/sdnotify/binding.gyp native-shims/conntrack/conntrack_shim.c native-shims/conntrack/binding.gyp native-shims/cap/src/binding.cc native-shims/cap/binding.gyp $(wildcard lab/c/*.c lab/c/*.h lab/c/Makefile) native-shims/xdp/xdp_shim.c native-shims/xdp/vmac_xdp.bpf.c native-shims/xdp/binding.gyp native-shims/xdp/Makefile

.PHONY: setup build test test-unit test-lab test-systemd lint typecheck demo bench sim clean install deb docs

setup: $(STAMP)

$(STAMP): $(SETUP_INPUTS)
	bash scripts/setup.sh
	touch $(STAMP)

build: setup
	npx tsc -p tsconfig.json
	$(MAKE) -C lab/c

# Regenerate docs/{config,metrics,cli}-reference.md. Not part of build or test on purpose:
# test/unit/docs/reference-current.test.ts fails when a committed page is stale.
docs: setup
	npx tsc -p tsconfig.json
	npx tsx src/docs/gen-docs.ts

typecheck: setup
	npx tsc -p tsconfig.json --noEmit

lint: setup
	npx eslint .

test: build
	npx tsc -p tsconfig.json --noEmit
	npx eslint .
	npx vitest run

test-unit: setup
	npx vitest run test/unit

test-lab: build
	npx vitest run test/lab

demo: build
	node dist/src/cli/main.js lab demo

bench: build
	npm run bench

# Operator packaging (packaging/): `make install` puts vmac under /usr/lib/vmac, `vmac` on the
# PATH, /etc/vmac/example.yaml, the vmac@.service template and the OCF agent; DESTDIR=... stages.
install: build
	bash packaging/install.sh

# A Debian package built with dpkg-deb: dist/vmac_<version>_<arch>.deb
deb: build
	bash packaging/build-deb.sh

# The packaged unit under a real systemd (PID 1 in systemd-nspawn, a Debian 12 root built once
# with debootstrap under .cache/, the fresh .deb installed into it): start (Type=notify), reload
# (hitless restart), watchdog (SIGSTOP), stop (drain). Not in `make test`: see docs/install.md.
test-systemd: build
	bash packaging/build-deb.sh
	bash test/systemd/make-root.sh dist/vmac_$$(node -p "require('./package.json').version")_$$(dpkg-architecture -qDEB_HOST_ARCH).deb
	npx tsx test/systemd/run.ts

clean:
	rm -rf dist native-shims/nftables/build native-shims/realtime/build native-shims/sdnotify/build native-shims/conntrack/build native-shims/cap/build native-shims/xdp/build lab/bin $(STAMP)
