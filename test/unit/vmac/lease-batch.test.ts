import { describe, expect, it } from 'vitest';
import { leaseBatch } from '../../../src/vmac/lease-batch.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const le32 = (n: number): string => Buffer.from(new Uint32Array([n]).buffer).toString('hex');

/**
 * What `nft add element netdev vmac_lab alive { "eth0" timeout 100ms expires 100ms }` sent
 * through libnftables (strace of a running daemon), element message only, with the two
 * differences lease-batch.ts documents: NLM_F_ACK added to the flags (0x0401 -> 0x0405) and the
 * 8-byte NFTA_SET_ELEM_LIST_SET_ID attribute left out (so 112 -> 104 bytes). Attribute padding,
 * which libnftables leaves uninitialised, is zero here.
 */
function expectedElementMessage(seq: number): string {
  return [
    '68000000', '0c0a', '0504', le32(seq), '00000000', // nlmsghdr: len 104, NEWSETELEM, REQUEST|ACK|CREATE, seq, pid 0
    '05000000', // nfgenmsg: NFPROTO_NETDEV, v0, res_id 0
    '0d000100', Buffer.from('vmac_lab\0').toString('hex'), '000000', // TABLE "vmac_lab"
    '0a000200', Buffer.from('alive\0').toString('hex'), '0000', // SET "alive"
    '38000380', // ELEMENTS (nested)
    '34000180', // LIST_ELEM (nested)
    '0c000400', '0000000000000064', // TIMEOUT 100 ms, big-endian
    '0c000500', '0000000000000064', // EXPIRATION 100 ms
    '18000180', '14000100', Buffer.from('eth0').toString('hex'), '00'.repeat(12), // KEY { DATA_VALUE "eth0", IFNAMSIZ }
  ].join('');
}

const batchMarker = (type: string, seq: number): string => ['14000000', type, '0100', le32(seq), '00000000', '0000000a'].join('');

describe('leaseBatch', () => {
  it('is the batch nft sends for `add element … { "eth0" timeout T expires T }`, acknowledged', () => {
    const b = leaseBatch('vmac_lab', 'alive', 'eth0');
    expect(hex(b.renewal(100, 7))).toBe(batchMarker('1000', 7) + expectedElementMessage(8) + batchMarker('1100', 9));
    expect(b.ackSeq(7)).toBe(8);
    expect(b.seqsPerBatch).toBe(3);
  });

  it('patches only the lease and the sequence numbers between renewals', () => {
    const b = leaseBatch('vmac_lab', 'alive', 'eth0');
    const first = hex(b.renewal(100, 1));
    const again = b.renewal(16, 0xfffffffe); // sequence numbers wrap
    expect(again.length).toBe(144);
    const v = new DataView(again.buffer);
    expect([v.getUint32(8, true), v.getUint32(20 + 8, true), v.getUint32(124 + 8, true)]).toEqual([0xfffffffe, 0xffffffff, 0]);
    const timeoutAt = 20 + 20 + 16 + 12 + 4 + 4 + 4;
    expect([v.getBigUint64(timeoutAt, false), v.getBigUint64(timeoutAt + 12, false)]).toEqual([16n, 16n]);
    // Everything else is the same bytes as before.
    const differing = [...Buffer.from(first, 'hex')].flatMap((x, i) => (x === again[i] ? [] : [i]));
    expect(differing.every((i) => (i >= 8 && i < 12) || (i >= 28 && i < 32) || (i >= 132 && i < 136) || (i >= timeoutAt && i < timeoutAt + 8) || (i >= timeoutAt + 12 && i < timeoutAt + 20))).toBe(true);
  });

  it('refuses names the kernel would refuse, before anything is sent', () => {
    expect(() => leaseBatch('vmac_lab', 'alive', '')).toThrow(RangeError);
    expect(() => leaseBatch('vmac_lab', 'alive', 'sixteen-bytes-xx')).toThrow(/1-15 bytes/);
    expect(() => leaseBatch('', 'alive', 'eth0')).toThrow(RangeError);
    expect(() => leaseBatch('vmac_lab', 'alive', 'eth0').renewal(1.5, 1)).toThrow(RangeError);
    expect(() => leaseBatch('vmac_lab', 'alive', 'eth0').renewal(-1, 1)).toThrow(RangeError);
  });
});
