#!/usr/bin/env node
// The installed entry point: the compiled CLI (run `make build` after changing the sources).
import '../dist/src/cli/main.js';
