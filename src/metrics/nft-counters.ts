/**
 * Reads the kernel's per-bucket counters: the `owned` verdict map carries a counter on every
 * element (src/vmac/ruleset.ts, OWNED_MAP_FLAGS), listed as JSON through the libnftables shim.
 * Parsing is pure and unit-tested against nft's JSON output.
 */
import type { NftRunner } from '../../native-shims/nftables.js';

export interface PacketCount {
  readonly packets: number;
  readonly bytes: number;
}

/** bucket → counter of the element as the kernel holds it now (absent: bucket not owned). */
export type BucketCounters = ReadonlyMap<number, PacketCount>;

interface NftJsonElem { elem?: { val?: unknown; counter?: { packets?: unknown; bytes?: unknown } } }
interface NftJsonDoc { nftables?: { map?: { elem?: [unknown, unknown][] } }[] }

/** `nft -j list map netdev <table> owned` → counters per owned bucket. */
export function parseOwnedCounters(json: string): Map<number, PacketCount> {
  const doc = JSON.parse(json) as NftJsonDoc;
  const out = new Map<number, PacketCount>();
  for (const item of doc.nftables ?? []) {
    for (const [key] of item.map?.elem ?? []) {
      if (typeof key !== 'object' || key === null) continue; // an element without a counter
      const e = (key as NftJsonElem).elem;
      if (typeof e?.val !== 'number') continue;
      const packets = Number(e.counter?.packets ?? 0);
      const bytes = Number(e.counter?.bytes ?? 0);
      out.set(e.val, { packets, bytes });
    }
  }
  return out;
}

export type CounterRead = { readonly outcome: 'read'; readonly counters: BucketCounters } | { readonly outcome: 'no-table'; readonly error: string };

/** One synchronous libnftables call (~1 ms for 256 elements). */
export function readOwnedCounters(nft: NftRunner, table: string): CounterRead {
  const r = nft.run(`list map netdev ${table} owned`, true);
  if (r.rc !== 0) return { outcome: 'no-table', error: r.error.trim() };
  return { outcome: 'read', counters: parseOwnedCounters(r.output) };
}
