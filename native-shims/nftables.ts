/**
 * The only file that loads our libnftables shim (native-shims/nftables/, built by `make setup`).
 * One libnftables context per process: every ruleset change of the daemon goes through it, so a
 * change takes effect in well under a millisecond instead of an `nft` process spawn (~4-5 ms).
 */
import { createRequire } from 'node:module';
import { addonPath } from './addon-path.js';
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

interface NativeHandle { readonly __nftContext: unique symbol }
interface NativeModule { open(netnsPath?: string): NativeHandle; run(handle: NativeHandle, commands: string, json: boolean): NftResult }

let loaded: NativeModule | undefined;


/**
 * Opens one libnftables context. With `netnsPath` (e.g. /run/netns/lab-n1) the context drives
 * that namespace's ruleset while this process stays where it is (tests and benchmarks).
 */
/** Loads the addon (once) without opening a context: `vmac run` checks this before any kernel change. */
export function loadNftablesShim(): void {
  if (loaded) return;
  const require = createRequire(import.meta.url);
  const mod = require(addonPath('nftables', 'vmac_nftables', 'VMAC_NFT_UNAVAILABLE', 'libnftables shim')) as Partial<NativeModule>;
  if (typeof mod.run !== 'function' || typeof mod.open !== 'function') throw new VmacError('VMAC_NFT_UNAVAILABLE', 'the libnftables shim lacks open()/run(): rebuild it with `make setup`');
  loaded = mod as NativeModule;
}

export function openNftables(netnsPath?: string): NftRunner {
  loadNftablesShim();
  const native = loaded as NativeModule;
  let handle: NativeHandle;
  try {
    handle = native.open(netnsPath);
  } catch (err) {
    throw new VmacError('VMAC_NFT_UNAVAILABLE', `cannot open an nftables context${netnsPath ? ` in ${netnsPath}` : ''}: ${(err as Error).message}`, { netnsPath }, { cause: err });
  }
  return { run: (commands, json = false) => native.run(handle, commands, json) };
}
