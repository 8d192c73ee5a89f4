/**
 * The only file that loads our libnftables shim (native-shims/nftables/, built by `make setup`).
 * One libnftables context per process: every ruleset change of the daemon goes through it, so a
 * change takes effect in well under a millisecond instead of an `nft` process spawn (~4-5 ms).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { VmacError } from '../src/util/errors.js';

export interface NftResult {
  readonly rc: number;
  readonly output: string;
  readonly error: string;
}

export interface NftRunner {
  /** Runs one nft batch (all commands commit atomically or none). Never throws for nft errors. */
  run(commands: string, json?: boolean): NftResult;
}

interface NativeModule { run(commands: string, json: boolean): NftResult }

let loaded: NativeModule | undefined;

/** Where the addon is built; found relative to this file in the source tree and in dist/. */
function addonPath(): string {
  const candidates = ['./nftables/build/Release/vmac_nftables.node', '../../native-shims/nftables/build/Release/vmac_nftables.node'];
  for (const rel of candidates) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new VmacError('VMAC_NFT_UNAVAILABLE', 'the libnftables shim is not built (native-shims/nftables): run `make setup`', { candidates });
}

export function openNftables(): NftRunner {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const mod = require(addonPath()) as Partial<NativeModule>;
    if (typeof mod.run !== 'function') throw new VmacError('VMAC_NFT_UNAVAILABLE', 'the libnftables shim has no run() export');
    loaded = mod as NativeModule;
  }
  const native = loaded;
  return { run: (commands, json = false) => native.run(commands, json) };
}
