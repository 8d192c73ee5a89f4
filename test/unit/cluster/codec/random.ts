/** Seeded randomness for the property and fuzz tests: same seed, same run, reproducible failures. */
import type { Heartbeat, NodeState, PeerReport, PeerStatus } from '../../../../src/cluster/heartbeat-types.js';
import { mulberry32, type Rng } from '../../../../src/util/prng.js';

export { mulberry32, type Rng };

/** Integer in [min, max]. */
export function int(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[int(rng, 0, items.length - 1)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

export function u64(rng: Rng): bigint {
  return (BigInt(int(rng, 0, 0xffffffff)) << 32n) | BigInt(int(rng, 0, 0xffffffff));
}

/** `n` random bytes, four per draw (the fuzz test makes megabytes of these). */
export function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const word = (rng() * 4294967296) >>> 0;
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
  }
  return out;
}

const STATES: readonly NodeState[] = ['active', 'draining', 'standby', 'leaving'];
const STATUSES: readonly PeerStatus[] = ['unknown', 'alive', 'suspect', 'dead'];

/** A valid heartbeat with every field random within its wire range, and at most `maxPeers` peer reports. */
export function randomHeartbeat(rng: Rng, overrides: Partial<Heartbeat> = {}, maxPeers = 31): Heartbeat {
  const senderId = overrides.senderId ?? int(rng, 1, 32);
  const peerIds: number[] = [];
  const wanted = int(rng, 0, maxPeers);
  for (let id = 1; id <= 32 && peerIds.length < wanted; id++) if (id !== senderId && rng() < 0.7) peerIds.push(id);
  const peers: PeerReport[] = peerIds.map((id) => ({
    id, status: pick(rng, STATUSES), incarnationHeard: u64(rng), lastSeqHeard: int(rng, 0, 0xffffffff), ageMs: int(rng, 0, 0xffffffff),
  }));
  return {
    version: 1,
    type: rng() < 0.9 ? 'heartbeat' : 'leave',
    senderId,
    incarnation: u64(rng) | 1n,
    seq: int(rng, 0, 0xffffffff),
    state: pick(rng, STATES),
    hasQuorum: rng() < 0.5,
    weight: int(rng, 0, 0xffff),
    mapEpoch: int(rng, 0, 0xffffffff),
    mapDigest: Buffer.from(randomBytes(rng, 8)).toString('hex'),
    linkId: int(rng, 0, 255),
    peers,
    ...overrides,
  };
}
