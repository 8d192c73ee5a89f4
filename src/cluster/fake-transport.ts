/**
 * An in-memory network of heartbeat transports (memberlist's MockNetwork): many nodes in one
 * process, delivery on a fake clock, with a fault vocabulary for tests and the simulator —
 * per-direction loss (one-way or both), extra delay, duplication, and crash (drop everything).
 */
import type { Clock } from '../util/clock.js';
import type { DatagramHandler, HeartbeatTransport } from './transport.js';

export interface FakeNetwork {
  /** A transport for the node that owns `addresses` (one per link). */
  attach(addresses: readonly string[]): HeartbeatTransport;
  /** Drop datagrams from `from` to `to` (addresses or node address lists) until healed. */
  cut(from: string, to: string): void;
  heal(from: string, to: string): void;
  healAll(): void;
  setDelayMs(ms: number): void;
  /** Optional random source for loss/duplication (seeded in the simulator). */
  setChaos(opts: { lossRate: number; dupRate: number; jitterMs: number; random: () => number }): void;
  readonly delivered: number;
  readonly dropped: number;
}

export function createFakeNetwork(clock: Clock): FakeNetwork {
  const handlers = new Map<string, { linkId: number; handlers: DatagramHandler[]; open: boolean }>();
  const cuts = new Map<string, Set<string>>(); // from -> destinations cut off
  let delayMs = 0;
  let chaos = { lossRate: 0, dupRate: 0, jitterMs: 0, random: () => 0.5 };
  let delivered = 0;
  let dropped = 0;
  const isCut = (from: string, to: string): boolean => cuts.size > 0 && cuts.get(from)?.has(to) === true;
  /** `bytes` is this delivery's own copy (made at send): a lone handler gets it, several get a copy each. */
  const deliver = (from: string, to: string, bytes: Uint8Array): void => {
    const dest = handlers.get(to);
    if (!dest?.open || isCut(from, to)) { dropped++; return; }
    delivered++;
    const hs = dest.handlers;
    if (hs.length === 1) { (hs[0] as DatagramHandler)(bytes, dest.linkId, from); return; }
    const copies = hs.map(() => new Uint8Array(bytes));
    hs.forEach((h, i) => h(copies[i] as Uint8Array, dest.linkId, from));
  };
  return {
    attach(addresses) {
      const entries = addresses.map((a, linkId) => {
        const e = { linkId, handlers: [] as DatagramHandler[], open: true };
        handlers.set(a, e);
        return e;
      });
      return {
        send(linkId, address, bytes) {
          const from = addresses[linkId];
          if (from === undefined || !entries[linkId]?.open) return;
          if (chaos.lossRate > 0 && chaos.random() < chaos.lossRate) { dropped++; return; }
          const copies = chaos.dupRate > 0 && chaos.random() < chaos.dupRate ? 2 : 1;
          for (let i = 0; i < copies; i++) {
            const copy = new Uint8Array(bytes); // a copy (Uint8Array.from would iterate byte by byte)
            const d = delayMs + (chaos.jitterMs > 0 ? chaos.random() * chaos.jitterMs : 0);
            clock.setTimer(d, () => deliver(from, address, copy));
          }
        },
        onMessage(h) {
          for (const e of entries) e.handlers.push(h);
        },
        close() {
          for (const e of entries) e.open = false;
        },
      };
    },
    cut(from, to) {
      let dests = cuts.get(from);
      if (!dests) cuts.set(from, (dests = new Set()));
      dests.add(to);
    },
    heal(from, to) {
      const dests = cuts.get(from);
      if (dests?.delete(to) && dests.size === 0) cuts.delete(from);
    },
    healAll: () => cuts.clear(),
    setDelayMs: (ms) => void (delayMs = ms),
    setChaos: (opts) => void (chaos = opts),
    get delivered() { return delivered; },
    get dropped() { return dropped; },
  };
}
