/** Decoding the ctnetlink shim's records: buckets straight from bytes equal bucketOf's; UDP idle bounds. */
import { describe, expect, it } from 'vitest';
import { CT_RECORD_SIZE, decodeRecord } from '../../../native-shims/conntrack.js';
import { busyFromRecords, recordBucket, udpFlowsFromRecords } from '../../../src/takeover/conntrack-netlink.js';
import { bucketOf } from '../../../src/hash/bucket-of.js';
import type { HashConfig } from '../../../src/config/types.js';
import { mulberry32 } from '../../../src/util/prng.js';

function record(saddr: string, sport: number, dport: number, proto: number, tcpState: number, status: number, timeoutS: number): Buffer {
  const b = Buffer.alloc(CT_RECORD_SIZE);
  saddr.split('.').forEach((x, i) => { b[i] = Number(x); });
  b.writeUInt16LE(sport, 4);
  b.writeUInt16LE(dport, 6);
  b[8] = proto;
  b[9] = tcpState;
  b[10] = status;
  b.writeUInt32LE(timeoutS, 12);
  return b;
}

describe('ctnetlink records', () => {
  it('recordBucket equals bucketOf for every affinity (2,000 random clients each)', () => {
    const rnd = mulberry32(7);
    const hashes: HashConfig[] = [
      { affinity: 'address', seed: 0x5eed, prefixLength: 24, prefixLength6: 64 },
      { affinity: 'address+port', seed: 0xdeadbeef, prefixLength: 24, prefixLength6: 64 },
      { affinity: 'network', seed: 1, prefixLength: 20, prefixLength6: 64 },
    ];
    for (const hash of hashes) {
      for (let i = 0; i < 2000; i++) {
        const addr = [0, 0, 0, 0].map(() => Math.floor(rnd() * 256)).join('.');
        const sport = 1 + Math.floor(rnd() * 65535);
        expect(recordBucket(record(addr, sport, 443, 17, 0, 0, 30), 0, hash, 256)).toBe(bucketOf({ addr, sport }, hash, 256));
      }
    }
  });

  it('TCP: only live states make a bucket busy', () => {
    const hash: HashConfig = { affinity: 'address', seed: 3, prefixLength: 24, prefixLength6: 64 };
    const buf = Buffer.concat([record('10.0.0.1', 1, 80, 6, 3, 0, 100), record('10.0.0.2', 1, 80, 6, 7, 0, 100), record('10.0.0.3', 1, 80, 6, 8, 0, 100)]);
    expect([...busyFromRecords(buf, hash, 256)]).toEqual([bucketOf({ addr: '10.0.0.1' }, hash, 256)]);
    expect(decodeRecord(buf, CT_RECORD_SIZE).tcpState).toBe('TIME_WAIT');
  });

  it('UDP: the idle bound never exceeds the truth (whole seconds left, minus one for the rounding)', () => {
    const t = { unrepliedS: 30, streamS: 120 };
    const flows = udpFlowsFromRecords(Buffer.concat([record('10.0.0.1', 5000, 443, 17, 0, 0, 30), record('10.0.0.2', 5001, 443, 17, 0, 0, 25), record('10.0.0.3', 5002, 443, 17, 0, 2, 100)]), t);
    // 30 left of 30: idle under a second; 25 left: idle 5..6 s, bound 4 s; assured 100 of 120: bound 19 s.
    expect(flows.map((f) => f.idleAtLeastMs)).toEqual([0, 4000, 19000]);
    expect(flows[2]).toMatchObject({ saddr: '10.0.0.3', sport: 5002, dport: 443 });
  });
});
