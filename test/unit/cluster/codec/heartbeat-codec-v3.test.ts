/**
 * Heartbeat wire format v3 (v2 + the fingerprint section): byte-exact against a hand-written
 * layout, round-trips, v1 and v2 still accepted, every framing or range error a named reason.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAC_SIZE, MAX_MESSAGE_SIZE_V3, decodeHeartbeat, encodeHeartbeat } from '../../../../src/cluster/heartbeat-codec.js';
import type { Heartbeat } from '../../../../src/cluster/heartbeat-types.js';
import { isVmacError } from '../../../../src/util/errors.js';
import { HEARTBEAT, HEARTBEAT_HEX, KEY, hex, toHex } from './vectors.js';

const V3: Heartbeat = {
  ...HEARTBEAT,
  version: 3,
  handover: { phases: ['owned', 'none', 'incoming', 'draining', 'none', 'owned'], grants: [{ bucket: 3, to: 1 }, { bucket: 5, to: 32 }], restartWindowMs: 3000 },
  fingerprint: { layout: 1, digest: '0123456789abcdef', slots: [0x5eed, 0x0a090909, 7] },
};

/** The v2 section of heartbeat-codec-v2.test.ts, then the fingerprint section, by hand. */
const SECTIONS_HEX = hex(`
  0006 0002 00000bb8   # B=6, g=2, restartWindowMs=3000
  4b 10                # phases
  0003 01  0005 20     # grants
  01 03 0000           # layout 1, k=3, reserved
  0123456789abcdef     # config digest
  00005eed 0a090909 00000007   # slots
`);

function sign(body: Uint8Array): Uint8Array {
  return Uint8Array.from([...body, ...createHmac('sha256', KEY).update(body).digest()]);
}

function v3Body(): Uint8Array {
  const v1Body = Uint8Array.from(HEARTBEAT_HEX.subarray(0, HEARTBEAT_HEX.length - MAC_SIZE));
  v1Body[1] = 3;
  return Uint8Array.from([...v1Body, ...SECTIONS_HEX]);
}

describe('heartbeat wire format v3 (fingerprint section)', () => {
  it('encodes byte for byte as documented, and decodes back', () => {
    expect(toHex(encodeHeartbeat(V3, KEY))).toBe(toHex(sign(v3Body())));
    expect(decodeHeartbeat(sign(v3Body()), KEY)).toEqual({ ok: true, hb: V3 });
  });

  it('still accepts v1 messages (no fingerprint)', () => {
    const r = decodeHeartbeat(HEARTBEAT_HEX, KEY);
    expect(r.ok && r.hb.fingerprint).toBe(undefined);
  });

  it('decodes an unknown layout (the receiver names it), refuses zero slots and a reserved bit', () => {
    const body = v3Body();
    const fpAt = body.length - 12 - 12;
    const layout9 = Uint8Array.from(body); layout9[fpAt] = 9;
    const r = decodeHeartbeat(sign(layout9), KEY);
    expect(r.ok && r.hb.fingerprint?.layout).toBe(9);
    const layout0 = Uint8Array.from(body); layout0[fpAt] = 0;
    expect(decodeHeartbeat(sign(layout0), KEY)).toEqual({ ok: false, reason: 'malformed' });
    const reserved = Uint8Array.from(body); reserved[fpAt + 3] = 1;
    expect(decodeHeartbeat(sign(reserved), KEY)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('names framing errors: a slot count the bytes do not hold, more than 64 slots, a cut section', () => {
    const body = v3Body();
    const fpAt = body.length - 12 - 12;
    const more = Uint8Array.from(body); more[fpAt + 1] = 4;
    expect(decodeHeartbeat(sign(more), KEY)).toEqual({ ok: false, reason: 'truncated' });
    const fewer = Uint8Array.from(body); fewer[fpAt + 1] = 2;
    expect(decodeHeartbeat(sign(fewer), KEY)).toEqual({ ok: false, reason: 'oversized' });
    const huge = Uint8Array.from(body); huge[fpAt + 1] = 65;
    expect(decodeHeartbeat(sign(huge), KEY)).toEqual({ ok: false, reason: 'oversized' });
    expect(decodeHeartbeat(sign(body.subarray(0, fpAt + 5)), KEY)).toEqual({ ok: false, reason: 'truncated' });
    expect(decodeHeartbeat(new Uint8Array(MAX_MESSAGE_SIZE_V3 + 1).fill(0).map((_, i) => (i === 0 ? 0x56 : i === 1 ? 3 : 0)), KEY)).toEqual({ ok: false, reason: 'oversized' });
  });

  it('never throws on random bytes after a v3 header', () => {
    for (let i = 0; i < 2000; i++) {
      const body = v3Body();
      const at = 36 + (i % (body.length - 36));
      body[at] = (body[at] ?? 0) ^ ((i * 37) & 0xff);
      expect(() => decodeHeartbeat(sign(body), KEY)).not.toThrow();
    }
  });

  it('refuses to encode what a peer would call malformed', () => {
    const bad: Heartbeat[] = [
      { ...V3, fingerprint: { ...V3.fingerprint!, slots: [] } },
      { ...V3, fingerprint: { ...V3.fingerprint!, slots: [-1] } },
      { ...V3, fingerprint: { ...V3.fingerprint!, digest: 'xyz' } },
      { ...V3, fingerprint: undefined },
      { ...V3, version: 2 },
    ];
    for (const hb of bad) {
      try { encodeHeartbeat(hb, KEY); expect.unreachable(); } catch (err) { expect(isVmacError(err) && err.code).toBe('VMAC_HEARTBEAT_INVALID'); }
    }
  });
});
