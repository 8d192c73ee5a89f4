/**
 * Sends N hostile heartbeat datagrams at a daemon (run inside a lab client namespace):
 * random bytes, truncations, extensions, bit flips of valid messages, forgeries (wrong key),
 * replays of one valid message, valid messages from an unknown node id, oversized datagrams.
 * Prints {sent, byKind} as JSON. Paced so the receiver's socket buffer never overflows.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { encodeHeartbeat } from '../../../src/cluster/heartbeat-codec.js';
import type { Heartbeat } from '../../../src/cluster/heartbeat-types.js';

const [target = '', portText = '5789', keyFile = '', countText = '100000', senderText = '2'] = process.argv.slice(2);
const key = Uint8Array.from(readFileSync(keyFile)).subarray(0, -1); // minus the trailing newline, as the daemon reads it
const wrongKey = new Uint8Array(32).fill(0x42);
let seed = 12345;
const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const hb = (senderId: number, seq: number): Heartbeat => ({
  version: 1, type: 'heartbeat', senderId, incarnation: 1n, seq, state: 'active', hasQuorum: true, weight: 100,
  mapEpoch: 0, mapDigest: '0000000000000000', linkId: 0,
  peers: [{ id: 1, status: 'alive', incarnationHeard: 1n, lastSeqHeard: 1, ageMs: 1 }],
});
// A once-valid message: the real node `senderText` has a far larger incarnation (ms since the
// epoch), so this is stale — like a replay captured long ago.
const valid = encodeHeartbeat(hb(Number(senderText), 7), key);
const kinds = ['random', 'truncated', 'extended', 'bitflip', 'forged', 'replay', 'unknown-node', 'oversized'] as const;
const byKind: Record<string, number> = {};

function make(kind: (typeof kinds)[number]): Uint8Array {
  switch (kind) {
    case 'random': return Uint8Array.from({ length: 1 + Math.floor(rnd() * 800) }, () => Math.floor(rnd() * 256));
    case 'truncated': return valid.subarray(0, Math.floor(rnd() * valid.length));
    case 'extended': return Uint8Array.from([...valid, ...Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256))]);
    case 'bitflip': { const b = Uint8Array.from(valid); const i = Math.floor(rnd() * b.length); b[i] = (b[i] ?? 0) ^ (1 << Math.floor(rnd() * 8)); return b; }
    case 'forged': return encodeHeartbeat(hb(Number(senderText), Math.floor(rnd() * 1e9)), wrongKey);
    case 'replay': return valid;
    case 'unknown-node': return encodeHeartbeat(hb(31, Math.floor(rnd() * 1e9)), key);
    case 'oversized': return new Uint8Array(709 + Math.floor(rnd() * 1000));
  }
}

const sock = createSocket('udp4');
const total = Number(countText);
let sent = 0;
function burst(): void {
  for (let i = 0; i < 50 && sent < total; i++, sent++) {
    const kind = kinds[sent % kinds.length] ?? 'random';
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    sock.send(make(kind), Number(portText), target);
  }
  if (sent < total) setTimeout(burst, 1);
  else setTimeout(() => { sock.close(); process.stdout.write(`${JSON.stringify({ sent, byKind })}\n`); }, 200);
}
burst();
