/** The resource report wire format (src/crm/crm-codec.ts): round trip, and every bad datagram a named outcome. */
import { describe, expect, it } from 'vitest';
import { CRM_HEADER_SIZE, decodeCrmMessage, encodeCrmMessage, isCrmMessage, type CrmMessage } from '../../../src/cluster/crm-codec.js';
import { isFlowMessage } from '../../../src/cluster/flow-codec.js';
import { computeMac } from '../../../src/cluster/heartbeat-auth.js';

const KEY = new Uint8Array(32).fill(7);
const MSG: CrmMessage = {
  senderId: 3,
  fingerprint: '0123456789abcdef',
  report: {
    epoch: 1_765_000_000_123, seq: 42,
    phases: { db: 'started', 'db-ip': 'stop-failed', q: 'claiming' },
    failures: { db: 2 }, banned: ['db-ip'], claims: { q: 'n3#1765000000123.4' }, acks: { mailer: 'n1#1.1' },
    operator: { version: 17, scores: { db: { n2: -1_000_000 }, '@standby': { n1: 1 } } },
  },
};

function reMac(bytes: Uint8Array, mutate: (b: Buffer) => void): Uint8Array {
  // Re-encode by hand: change a header field, keep the MAC valid (what an authenticated but broken sender would send).
  const b = Buffer.from(bytes.subarray(0, bytes.length - 32));
  mutate(b);
  return Buffer.concat([b, computeMac(KEY, b)]);
}

describe('resource report codec', () => {
  it('round-trips a report and is told apart from heartbeats and flow messages', () => {
    const bytes = encodeCrmMessage(MSG, KEY);
    expect(isCrmMessage(bytes)).toBe(true);
    expect(isFlowMessage(bytes)).toBe(false);
    expect(bytes[0]).not.toBe(0x56);
    const d = decodeCrmMessage(bytes, KEY);
    expect(d).toEqual({ ok: true, msg: MSG });
  });

  it('refuses a wrong key, a flipped byte, a cut datagram, another version', () => {
    const bytes = encodeCrmMessage(MSG, KEY);
    expect(decodeCrmMessage(bytes, new Uint8Array(32).fill(8))).toEqual({ ok: false, reason: 'bad-mac' });
    const flipped = Uint8Array.from(bytes);
    flipped[CRM_HEADER_SIZE + 3] = (flipped[CRM_HEADER_SIZE + 3] ?? 0) ^ 1;
    expect(decodeCrmMessage(flipped, KEY)).toEqual({ ok: false, reason: 'bad-mac' });
    expect(decodeCrmMessage(bytes.subarray(0, bytes.length - 1), KEY)).toEqual({ ok: false, reason: 'bad-length' });
    expect(decodeCrmMessage(bytes.subarray(0, 20), KEY)).toEqual({ ok: false, reason: 'truncated' });
    const v2 = Uint8Array.from(bytes);
    v2[1] = 2;
    expect(decodeCrmMessage(v2, KEY)).toEqual({ ok: false, reason: 'bad-version' });
    expect(decodeCrmMessage(new Uint8Array(70_000), KEY)).toEqual({ ok: false, reason: 'oversized' });
  });

  it('refuses authentic but malformed reports field by field', () => {
    const bytes = encodeCrmMessage(MSG, KEY);
    expect(decodeCrmMessage(reMac(bytes, (b) => { b[2] = 0; }), KEY)).toEqual({ ok: false, reason: 'malformed' });
    expect(decodeCrmMessage(reMac(bytes, (b) => { b.writeBigUInt64BE(0n, 4); }), KEY)).toEqual({ ok: false, reason: 'malformed' });
    function bad(body: unknown): Uint8Array {
      const json = Buffer.from(JSON.stringify(body), 'utf8');
      const head = Buffer.from(bytes.subarray(0, CRM_HEADER_SIZE));
      head.writeUInt16BE(json.length, 24);
      return reMac(Buffer.concat([head, json, Buffer.alloc(32)]), () => undefined);
    }
    const good = { phases: {}, failures: {}, banned: [], claims: {}, acks: {}, operator: { version: 0, scores: {} } };
    expect(decodeCrmMessage(bad(good), KEY).ok).toBe(true);
    for (const body of [
      { ...good, phases: { db: 'running' } },
      { ...good, failures: { db: -1 } },
      { ...good, banned: 'db' },
      { ...good, claims: { 'bad name!': 'x' } },
      { ...good, operator: { version: 1, scores: { db: { n1: 'INFINITY' } } } },
      { ...good, acks: undefined },
      [1, 2],
    ]) expect(decodeCrmMessage(bad(body), KEY)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to encode a report larger than one message', () => {
    const phases = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`resource-with-a-long-name-${i}`, 'started' as const]));
    expect(() => encodeCrmMessage({ ...MSG, report: { ...MSG.report, phases } }, KEY)).toThrow(/exceeds/);
  });
});
