/**
 * Heartbeat wire format v2 (the hand-over section): byte-exact against a hand-written layout,
 * round-trips, v1 still accepted, and every framing or range error a named drop reason.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HEADER_SIZE, MAC_SIZE, MAX_MESSAGE_SIZE_V2, PEER_ENTRY_SIZE, decodeHeartbeat, encodeHeartbeat, handoverSize } from '../../../../src/cluster/heartbeat-codec.js';
import type { Heartbeat } from '../../../../src/cluster/heartbeat-types.js';
import { isVmacError } from '../../../../src/util/errors.js';
import { HEARTBEAT, HEARTBEAT_HEX, KEY, hex, toHex } from './vectors.js';

const V2: Heartbeat = {
  ...HEARTBEAT,
  version: 2,
  handover: {
    // 6 buckets: owned, none, incoming, draining | none, owned (+ 2 pad bit pairs)
    phases: ['owned', 'none', 'incoming', 'draining', 'none', 'owned'],
    grants: [{ bucket: 3, to: 1 }, { bucket: 5, to: 32 }],
    restartWindowMs: 3000,
  },
};

/** v1 body with the version byte set to 2, then the section written out by hand. */
const SECTION_HEX = hex(`
  0006 0002 00000bb8   # B=6, g=2, restartWindowMs=3000
  4b 10                # 01 00 10 11 | 00 01 00 00
  0003 01  0005 20     # grants
`);

function v2Bytes(): Uint8Array {
  const v1Body = Uint8Array.from(HEARTBEAT_HEX.subarray(0, HEARTBEAT_HEX.length - MAC_SIZE));
  v1Body[1] = 2;
  const body = Uint8Array.from([...v1Body, ...SECTION_HEX]);
  return Uint8Array.from([...body, ...createHmac('sha256', KEY).update(body).digest()]);
}

function resign(body: Uint8Array): Uint8Array {
  return Uint8Array.from([...body, ...createHmac('sha256', KEY).update(body).digest()]);
}

const sectionAt = HEADER_SIZE + 2 * PEER_ENTRY_SIZE;

describe('heartbeat wire format v2 (hand-over section)', () => {
  it('encodes exactly the hand-written layout and decodes it back', () => {
    const bytes = encodeHeartbeat(V2, KEY);
    expect(toHex(bytes)).toBe(toHex(v2Bytes()));
    expect(bytes.length).toBe(108 + handoverSize(6, 2));
    const r = decodeHeartbeat(bytes, KEY);
    expect(r.ok && r.hb).toEqual(V2);
  });

  it('still decodes v1 (no section)', () => {
    const r = decodeHeartbeat(HEARTBEAT_HEX, KEY);
    expect(r.ok && r.hb.handover).toBeUndefined();
  });

  it('round-trips 256 buckets with many grants, well under the largest size', () => {
    const phases = Array.from({ length: 256 }, (_, i) => (['none', 'owned', 'incoming', 'draining'] as const)[i % 4] ?? 'none');
    const grants = Array.from({ length: 64 }, (_, i) => ({ bucket: i * 4 + 3, to: (i % 32) + 1 }));
    const hb: Heartbeat = { ...V2, handover: { phases, grants, restartWindowMs: 0 } };
    const bytes = encodeHeartbeat(hb, KEY);
    expect(bytes.length).toBeLessThan(MAX_MESSAGE_SIZE_V2);
    const r = decodeHeartbeat(bytes, KEY);
    expect(r.ok && r.hb).toEqual(hb);
  });

  it('refuses to encode what a peer would reject', () => {
    const bad: Heartbeat[] = [
      { ...V2, handover: undefined },
      { ...HEARTBEAT, handover: V2.handover },
      { ...V2, handover: { ...V2.handover!, grants: [{ bucket: 5, to: 1 }, { bucket: 3, to: 1 }] } },
      { ...V2, handover: { ...V2.handover!, grants: [{ bucket: 6, to: 1 }] } },
      { ...V2, handover: { ...V2.handover!, grants: [{ bucket: 1, to: 33 }] } },
      { ...V2, handover: { ...V2.handover!, phases: [] } },
    ];
    for (const hb of bad) {
      let code = '';
      try { encodeHeartbeat(hb, KEY); } catch (err) { code = isVmacError(err) ? err.code : 'other'; }
      expect(code).toBe('VMAC_HEARTBEAT_INVALID');
    }
  });

  it('names framing and range errors', () => {
    const good = v2Bytes();
    const body = good.subarray(0, good.length - MAC_SIZE);
    expect(decodeHeartbeat(good.subarray(0, good.length - 1), KEY)).toEqual({ ok: false, reason: 'truncated' });
    expect(decodeHeartbeat(Uint8Array.from([...good, 0]), KEY)).toEqual({ ok: false, reason: 'oversized' });
    const patched = (at: number, bytes: number[]): Uint8Array => { const b = Uint8Array.from(body); b.set(bytes, at); return resign(b); };
    // pad bits set
    expect(decodeHeartbeat(patched(sectionAt + 9, [0x11]), KEY)).toEqual({ ok: false, reason: 'malformed' });
    // grant to node 0, grants out of order
    expect(decodeHeartbeat(patched(sectionAt + 10 + 2, [0]), KEY)).toEqual({ ok: false, reason: 'malformed' });
    expect(decodeHeartbeat(patched(sectionAt + 10, [0, 5]), KEY)).toEqual({ ok: false, reason: 'malformed' });
    // bucket count larger than the bytes: truncated; larger than 1024: oversized
    expect(decodeHeartbeat(patched(sectionAt, [0, 9]), KEY)).toEqual({ ok: false, reason: 'truncated' });
    expect(decodeHeartbeat(patched(sectionAt, [0x04, 0x01]), KEY)).toEqual({ ok: false, reason: 'oversized' });
    // version 4 (unknown); a v2 message relabelled 3 lacks the fingerprint section
    expect(decodeHeartbeat(patched(1, [4]), KEY)).toEqual({ ok: false, reason: 'bad-version' });
    expect(decodeHeartbeat(patched(1, [3]), KEY)).toEqual({ ok: false, reason: 'truncated' });
  });
});
