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

/**
 * One NETLINK_NETFILTER socket for prebuilt nfnetlink batches (src/vmac/lease-batch.ts): no
 * ruleset re-read, one send and one receive per batch.
 */
export interface NetfilterSocket {
  /**
   * Sends one batch; returns the kernel's answer to its message numbered `seq`: 0 when it was
   * acknowledged, else the positive errno (NL_NO_ANSWER: none was queued). Never throws for a
   * kernel error.
   */
  talk(batch: Uint8Array, seq: number): number;
  close(): void;
}

/** nlTalk's answer when the kernel queued nothing for our message (the shim's NL_NO_ANSWER). */
export const NL_NO_ANSWER = 1_000_000;

interface NativeHandle { readonly __nftContext: unique symbol }
interface NativeSocket { readonly __netfilterSocket: unique symbol }
interface NativeModule {
  open(netnsPath?: string): NativeHandle;
  run(handle: NativeHandle, commands: string, json: boolean): NftResult;
  nlOpen(netnsPath?: string): NativeSocket;
  nlTalk(socket: NativeSocket, batch: Uint8Array, seq: number): number;
  nlClose(socket: NativeSocket): void;
}

let loaded: NativeModule | undefined;

function load(): NativeModule {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const mod = require(addonPath('nftables', 'vmac_nftables', 'VMAC_NFT_UNAVAILABLE', 'libnftables shim')) as Partial<NativeModule>;
    for (const fn of ['open', 'run', 'nlOpen', 'nlTalk', 'nlClose'] as const) {
      if (typeof mod[fn] !== 'function') throw new VmacError('VMAC_NFT_UNAVAILABLE', `the libnftables shim lacks ${fn}(): rebuild it with \`make setup\``);
    }
    loaded = mod as NativeModule;
  }
  return loaded;
}


/** Loads the addon (once) without opening a context: `vmac run` checks this before any kernel change. */
export function loadNftablesShim(): void {
  load();
}

/**
 * Opens one libnftables context. With `netnsPath` (e.g. /run/netns/lab-n1) the context drives
 * that namespace's ruleset while this process stays where it is (tests and benchmarks).
 */
export function openNftables(netnsPath?: string): NftRunner {
  const native = load();
  let handle: NativeHandle;
  try {
    handle = native.open(netnsPath);
  } catch (err) {
    throw new VmacError('VMAC_NFT_UNAVAILABLE', `cannot open an nftables context${netnsPath ? ` in ${netnsPath}` : ''}: ${(err as Error).message}`, { netnsPath }, { cause: err });
  }
  return { run: (commands, json = false) => native.run(handle, commands, json) };
}

/** Opens one netfilter netlink socket, in `netnsPath`'s namespace when given (tests and benchmarks). */
export function openNetfilterSocket(netnsPath?: string): NetfilterSocket {
  const native = load();
  let socket: NativeSocket;
  try {
    socket = native.nlOpen(netnsPath);
  } catch (err) {
    throw new VmacError('VMAC_NFT_UNAVAILABLE', `cannot open a netfilter netlink socket${netnsPath ? ` in ${netnsPath}` : ''}: ${(err as Error).message}`, { netnsPath }, { cause: err });
  }
  return { talk: (batch, seq) => native.nlTalk(socket, batch, seq), close: () => native.nlClose(socket) };
}
